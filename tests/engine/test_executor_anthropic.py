"""The engine end to end through the real Anthropic SDK provider against the fake Anthropic server."""

from __future__ import annotations

import asyncio
from typing import Any

from executions.engine.executor import PipelineExecutor
from tests.helpers.fake_models import FakeModelServer
from tests.helpers.fake_script import FakeUsage, Gate, Script
from tests.helpers.wire import Recorder, assert_wire_contract, chunks, output_of, types

KEY = "sk-ant-test-0123456789abcdef"


def anthropic_pipeline(*stages: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "via-anthropic",
        "name": "Through the SDK",
        "defaults": {"model": {"provider": "anthropic", "model": "claude-haiku-4-5", "maxTokens": 64}},
        "stages": [{"id": f"s{i + 1}", "prompt": f"prompt {i + 1}: {{{{input}}}}", **s} for i, s in enumerate(stages)],
    }


def executor(server: FakeModelServer, p: dict[str, Any], recorder: Recorder, **options: Any) -> PipelineExecutor:
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
    return PipelineExecutor(
        p,
        input="the input",
        on_event=recorder,
        env=env,
        retry_base_delay_s=0.001,
        coalesce_interval_ms=60_000,
        **options,
    )


async def test_two_stages_through_the_sdk_429_then_success_and_the_hand_off(fake_anthropic: FakeModelServer):
    fake_anthropic.enqueue(
        Script(deltas=["Alpha", " beta"], usage=FakeUsage(input_tokens=7, output_tokens=2)),
        Script(status=429, retry_after="0", error_message="slow down"),
        Script(deltas=["Done: ", "ok"], usage=FakeUsage(input_tokens=11, output_tokens=2), stop_reason="length"),
    )
    recorder = Recorder()
    p = anthropic_pipeline({}, {"prompt": "Improve: {{stages.s1.output}}", "retries": 1})
    outcome = await executor(fake_anthropic, p, recorder).run()
    events = recorder.events
    assert_wire_contract(events)
    assert outcome.status == "success"
    assert [e["type"] for e in events if e["type"] != "stage:output"] == [
        "execution:started",
        "stage:started",
        "stage:completed",
        "stage:started",
        "stage:retrying",
        "stage:completed",
        "execution:completed",
    ]
    retrying = next(e for e in events if e["type"] == "stage:retrying")
    assert (retrying["attempt"], retrying["delayMs"]) == (2, 0)
    assert "HTTP 429" in retrying["error"]
    assert output_of(events, "s1") == "Alpha beta"
    assert output_of(events, "s2") == "Done: ok"
    assert [c.request.body["messages"][-1]["content"] for c in fake_anthropic.calls] == [
        "prompt 1: the input",
        "Improve: Alpha beta",
        "Improve: Alpha beta",
    ]
    assert {c.request.api_key() for c in fake_anthropic.calls} == {KEY}
    s2 = next(e for e in events if e["type"] == "stage:completed" and e["stage"]["id"] == "s2")["result"]
    assert (s2["usage"], s2["attempts"], s2["finishReason"]) == ({"inputTokens": 11, "outputTokens": 2}, 2, "length")
    assert s2["costSource"] == "price-table" and s2["cost"] > 0
    assert (s2["provider"], s2["model"]) == ("anthropic", "claude-haiku-4-5")


async def test_cancel_mid_stream_closes_the_http_call(fake_anthropic: FakeModelServer):
    gate = Gate()
    fake_anthropic.enqueue(Script(deltas=["kept", " never"], gate=gate))
    recorder = Recorder()
    ex = executor(fake_anthropic, anthropic_pipeline({}, {}), recorder)
    running = asyncio.create_task(ex.run())
    gate.release(1)
    await fake_anthropic.await_sent(1)
    await recorder.first_output.wait()
    ex.cancel()
    outcome = await running
    await fake_anthropic.await_closed()
    assert fake_anthropic.calls[0].outcome == "client-closed"
    assert outcome.status == "cancelled"
    assert (outcome.stages["s1"].status, outcome.stages["s1"].output) == ("cancelled", "kept")
    assert outcome.stages["s2"].status == "pending"
    assert types(recorder.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:output",
        "execution:cancelled",
    ]
    assert chunks(recorder.events) == [("s1", "kept", 0, False), ("s1", "", 4, True)]
    assert recorder.events[-1]["reason"] == "cancelled by user"
