"""The Anthropic provider through the real ``anthropic`` SDK against the fake Messages API."""

from __future__ import annotations

from typing import Any

import pytest

from executions.engine.providers.anthropic import AnthropicProvider, map_stop_reason
from executions.engine.types import FinishDelta, ModelRequest, TextDelta, Usage, UsageDelta
from tests.helpers.fake_models import FakeModelServer, FakeUsage, RecordedRequest, Script
from tests.providers.api_contract import ApiContract, drain

ENV = {"ANTHROPIC_API_KEY": "ak"}


class TestAnthropicContract(ApiContract):
    provider = "anthropic"
    fake_kind = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    default_model = "claude-haiku-4-5"
    stream_error = ("overloaded_error", 529)
    # SDK 2.x sends anthropic-version 2026-10-21, which rejects any sampling setting with a 400.
    sends_temperature = False
    base_url_env = "ANTHROPIC_BASE_URL"

    def sent(self, req: RecordedRequest) -> dict[str, Any]:
        body = req.body
        return {
            "model": body["model"],
            "system": body.get("system"),
            "prompt": body["messages"][0]["content"],
            "max_tokens": body["max_tokens"],
            "temperature": body.get("temperature"),
        }


async def test_posts_to_v1_messages_under_the_server_root(fake_anthropic: FakeModelServer) -> None:
    model = {"provider": "anthropic", "baseURL": fake_anthropic.url}
    _, error = await drain(AnthropicProvider(ENV).stream(ModelRequest(model=model, prompt="p")))
    req = fake_anthropic.calls[0].request
    assert error is None
    assert (req.method, req.path, req.body["stream"]) == ("POST", "/v1/messages", True)
    assert "system" not in req.body and "temperature" not in req.body


async def test_cache_reads_and_writes_are_reported_apart_from_input(fake_anthropic: FakeModelServer) -> None:
    usage = FakeUsage(input_tokens=3, output_tokens=1, cache_read_tokens=500, cache_write_tokens=1200)
    fake_anthropic.enqueue(Script(deltas=["x"], usage=usage))
    model = {"provider": "anthropic", "baseURL": fake_anthropic.url}
    deltas, error = await drain(AnthropicProvider(ENV).stream(ModelRequest(model=model, prompt="p")))
    expected = Usage(input_tokens=3, output_tokens=1, cache_read_tokens=500, cache_write_tokens=1200)
    assert error is None
    # message_start already carries the input and cache counts, before any text.
    assert isinstance(deltas[0], UsageDelta) and deltas[0].usage == expected
    assert deltas[1] == TextDelta("x")
    assert deltas[-1] == FinishDelta(reason="stop", usage=expected)


@pytest.mark.parametrize(("stop", "reason"), [("tool-calls", "tool-calls"), ("stop-sequence", "stop")])
async def test_stop_reasons(fake_anthropic: FakeModelServer, stop: Any, reason: str) -> None:
    fake_anthropic.enqueue(Script(deltas=["a"], stop_reason=stop))
    model = {"provider": "anthropic", "baseURL": fake_anthropic.url}
    deltas, _ = await drain(AnthropicProvider(ENV).stream(ModelRequest(model=model, prompt="p")))
    assert isinstance(deltas[-1], FinishDelta) and deltas[-1].reason == reason


def test_unknown_stop_reasons_are_other() -> None:
    assert [map_stop_reason(r) for r in (None, "pause_turn", "weird")] == ["other", "other", "other"]
    assert map_stop_reason("refusal") == "content-filter"
