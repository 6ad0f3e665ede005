"""The OpenAI and OpenAI-compatible providers through the real ``openai`` SDK against the fake API."""

from __future__ import annotations

from typing import Any

import pytest

from executions.engine.errors import ProviderConfigError
from executions.engine.providers.openai import OpenAIProvider, map_finish_reason
from executions.engine.types import FinishDelta, ModelRequest
from tests.helpers.fake_models import FakeModelServer, RecordedRequest, Script
from tests.providers.api_contract import ApiContract, drain, texts


def _sent(req: RecordedRequest) -> dict[str, Any]:
    body = req.body
    by_role = {m["role"]: m["content"] for m in body["messages"]}
    return {
        "model": body["model"],
        "system": by_role.get("system"),
        "prompt": by_role["user"],
        "max_tokens": body.get("max_completion_tokens", body.get("max_tokens")),
        "temperature": body.get("temperature"),
    }


class TestOpenAIContract(ApiContract):
    provider = "openai"
    fake_kind = "openai"
    key_env = "OPENAI_API_KEY"
    default_model = "gpt-4o-mini"
    stream_error = ("server_error", 500)
    base_url_env = "OPENAI_BASE_URL"

    def sent(self, req: RecordedRequest) -> dict[str, Any]:
        return _sent(req)


class TestOpenAICompatibleContract(ApiContract):
    provider = "openai-compatible"
    fake_kind = "openai"
    key_env = "OPENAI_API_KEY"
    key_required = False
    default_model = None
    stream_error = ("rate_limit_exceeded", 429)
    base_url_env = "OPENAI_BASE_URL"

    def sent(self, req: RecordedRequest) -> dict[str, Any]:
        return _sent(req)


async def test_openai_sends_max_completion_tokens_compatible_max_tokens_both_ask_for_usage(
    fake_openai: FakeModelServer,
) -> None:
    env = {"OPENAI_API_KEY": "ok"}
    for kind, extra in (("openai", {}), ("openai-compatible", {"model": "llama3"})):
        model = {"provider": kind, "baseURL": fake_openai.url, "maxTokens": 50, **extra}
        _, error = await drain(OpenAIProvider(kind, env).stream(ModelRequest(model=model, prompt="p")))  # type: ignore[arg-type]
        assert error is None
    first, second = (c.request for c in fake_openai.calls)
    assert (first.body.get("max_completion_tokens"), first.body.get("max_tokens")) == (50, None)
    assert (second.body.get("max_completion_tokens"), second.body.get("max_tokens")) == (None, 50)
    assert first.body["stream_options"] == second.body["stream_options"] == {"include_usage": True}
    assert [first.path, second.path] == ["/v1/chat/completions", "/v1/chat/completions"]


async def test_compatible_without_any_server_url_is_a_config_error() -> None:
    model = {"provider": "openai-compatible", "model": "llama3"}
    _, error = await drain(OpenAIProvider("openai-compatible", {}).stream(ModelRequest(model=model, prompt="p")))
    assert isinstance(error, ProviderConfigError) and "model.baseURL" in str(error)


async def test_tool_calls_finish(fake_openai: FakeModelServer) -> None:
    fake_openai.enqueue(Script(deltas=["a"], stop_reason="tool-calls"))
    model = {"provider": "openai", "baseURL": fake_openai.url}
    provider = OpenAIProvider("openai", {"OPENAI_API_KEY": "k"})
    deltas, _ = await drain(provider.stream(ModelRequest(model=model, prompt="p")))
    assert texts(deltas) == ["a"]
    assert isinstance(deltas[-1], FinishDelta) and deltas[-1].reason == "tool-calls"


@pytest.mark.parametrize(("raw", "reason"), [(None, "other"), ("function_call", "tool-calls"), ("weird", "other")])
def test_finish_reason_map(raw: str | None, reason: str) -> None:
    assert map_finish_reason(raw) == reason
