"""The fake model servers themselves: every provider test leans on them, so their scripting, records and
standalone mode are checked here through the real SDKs (sync clients too: the fake serves any thread)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

from tests.helpers.fake_models import FakeModelServer, FakeUsage, Gate, Script

ROOT = Path(__file__).resolve().parents[2]


def _claude(server: FakeModelServer, **headers: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="k", base_url=server.url, max_retries=0, default_headers=headers)


def _stream_text(client: anthropic.Anthropic, prompt: str = "hi") -> tuple[str, str | None]:
    with client.messages.stream(model="m", max_tokens=5, messages=[{"role": "user", "content": prompt}]) as s:
        text = "".join(s.text_stream)
        return text, s.get_final_message().stop_reason


def test_sync_sdk_with_a_gate_sees_each_delta_before_the_next_is_sent(fake_openai: FakeModelServer) -> None:
    gate = Gate()
    fake_openai.enqueue(Script(deltas=["a", "b", "c"], gate=gate))
    client = openai.OpenAI(api_key="k", base_url=fake_openai.url, max_retries=0)
    got: list[str] = []
    gate.release()
    with client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], stream=True) as s:
        for chunk in s:
            if chunk.choices and chunk.choices[0].delta.content:
                got.append(chunk.choices[0].delta.content)
                assert fake_openai.calls[0].texts == got
                gate.release()
    assert got == ["a", "b", "c"]
    sent = fake_openai.calls[0].sent
    assert [d.index for d in sent] == [0, 1, 2] and sent[0].at <= sent[1].at <= sent[2].at
    assert fake_openai.calls[0].request.at <= sent[0].at


def test_steering_by_header_by_prompt_marker_and_by_name(fake_anthropic: FakeModelServer) -> None:
    assert _stream_text(_claude(fake_anthropic, **{"x-fake-script": "text=a|b,stop_reason=length"})) == (
        "ab",
        "max_tokens",
    )
    assert _stream_text(_claude(fake_anthropic), "please [fake:deltas=3] now") == ("tok0 tok1 tok2 ", "end_turn")
    fake_anthropic.name_script("busy", Script(status=503, error_message="later"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        _stream_text(_claude(fake_anthropic, **{"x-fake-script": "busy"}))
    assert (caught.value.status_code, caught.value.api_message) == (503, "later")


def test_the_queue_is_for_streaming_calls_non_streaming_ones_get_the_default(fake_anthropic: FakeModelServer) -> None:
    fake_anthropic.enqueue(Script(deltas=["queued"], usage=FakeUsage(input_tokens=9, output_tokens=1)))
    client = _claude(fake_anthropic)
    whole = client.messages.create(model="any-model", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert [b.text for b in whole.content if b.type == "text"] == ["Hello from the fake."]
    assert (whole.model, whole.stop_reason, whole.usage.output_tokens) == ("any-model", "end_turn", 4)
    assert _stream_text(client) == ("queued", "end_turn")
    assert [c.streaming for c in fake_anthropic.calls] == [False, True]


def test_a_default_function_sees_each_request(fake_openai: FakeModelServer) -> None:
    fake_openai.default = lambda req: Script(deltas=[f"echo:{req.body['model']}"])
    client = openai.OpenAI(api_key="k", base_url=fake_openai.url, max_retries=0)
    answer = client.chat.completions.create(model="echo-me", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "echo:echo-me"


def test_usage_chunk_only_when_asked_for_as_the_real_api(fake_openai: FakeModelServer) -> None:
    client = openai.OpenAI(api_key="k", base_url=fake_openai.url, max_retries=0)

    def usages(**extra: object) -> list[dict[str, object]]:
        stream = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            **extra,  # type: ignore[call-overload]
        )
        with stream:
            return [c.usage.model_dump(exclude_none=True) for c in stream if c.usage]

    assert usages() == []
    assert usages(stream_options={"include_usage": True}) == [
        {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 0}}
    ]


def test_unknown_endpoints_and_head_get_404_and_are_recorded(fake_google: FakeModelServer) -> None:
    with httpx2.Client() as http:
        assert http.head(f"{fake_google.origin}/").status_code == 404
        missing = http.post(f"{fake_google.origin}/v1/models/m:streamGenerateContent", json={})  # no alt=sse
        assert (missing.status_code, missing.json()["error"]["status"]) == (404, "NOT_FOUND")
    assert [(r.method, r.path) for r in fake_google.requests] == [
        ("HEAD", "/"),
        ("POST", "/v1/models/m:streamGenerateContent"),
    ]
    assert fake_google.calls == []


def test_script_specs() -> None:
    s = Script.parse("deltas=2, interval_ms=20, status=429, retry_after=3, cut_clean, output_tokens=7")
    assert (s.deltas, s.interval_ms, s.status, s.retry_after, s.cut_clean) == (("tok0 ", "tok1 "), 20.0, 429, "3", True)
    assert s.usage_or_default() == FakeUsage(input_tokens=12, output_tokens=7)
    assert Script.parse("text=Hi| there").deltas == ("Hi", " there")
    with pytest.raises(ValueError, match="unknown script key 'nope'"):
        Script.parse("nope=1")


def test_runs_as_a_process_for_clis_and_benchmarks() -> None:
    cmd = [
        sys.executable,
        "-m",
        "tests.helpers.fake_models",
        "--port",
        "0",
        "--kind",
        "anthropic",
        "--deltas",
        "5",
        "--interval-ms",
        "1",
        "--events",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with httpx2.Client() as http:
            # What Claude Code sends: HEAD / first, then /v1/messages?beta=true with x-api-key.
            assert http.head(f"{url}/").status_code == 404
            body = {
                "model": "claude-opus-4-8",
                "max_tokens": 64000,
                "stream": True,
                "messages": [{"role": "user", "content": "hi"}],
            }
            with http.stream("POST", f"{url}/v1/messages?beta=true", json=body, headers={"x-api-key": "dummy"}) as r:
                frames = [line for line in r.iter_lines() if line.startswith("event: ")]
        assert frames == [
            "event: message_start",
            "event: content_block_start",
            "event: ping",
            *["event: content_block_delta"] * 5,
            "event: content_block_stop",
            "event: message_delta",
            "event: message_stop",
        ]
        events = [json.loads(proc.stdout.readline()) for _ in range(7)]
        assert [e["event"] for e in events] == ["request", *["delta"] * 5, "completed"]
        assert [e.get("index") for e in events[1:6]] == [0, 1, 2, 3, 4]
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0


def test_a_bad_script_spec_is_answered_400_with_the_reason(fake_anthropic: FakeModelServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        _stream_text(_claude(fake_anthropic, **{"x-fake-script": "delta=3"}))
    assert caught.value.api_message == "fake anthropic: unknown script key 'delta' in 'delta=3'"
    assert fake_anthropic.calls == []
