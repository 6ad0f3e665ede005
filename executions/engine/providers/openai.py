"""OpenAI Chat Completions, and any OpenAI-style server (Ollama, vLLM, LM Studio, llama.cpp server,
OpenRouter), through the official async SDK, streamed with usage.

SDK retries are off (``max_retries=0``): the stage runner retries, each attempt a fresh call. The client
lives inside the call (``async with``): a pooled ``AsyncOpenAI`` connection reused from another event loop
fails with "Event loop is closed" (measured, notes §4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import httpx2
import openai

from executions.engine.errors import (
    ProviderConfigError,
    ProviderHTTPError,
    ProviderNetworkError,
    ProviderProtocolError,
    StagecastError,
)
from executions.engine.providers.api_common import (
    DEFAULT_MODELS,
    ApiProvider,
    api_key_from,
    max_tokens_of,
    parse_retry_after,
    stream_cut_error,
    stream_error,
)
from executions.engine.types import Delta, FinishDelta, FinishReason, ModelRequest, TextDelta, Usage, UsageDelta

OpenAIKind = Literal["openai", "openai-compatible"]

#: The SDK's own default, passed explicitly so an ``env`` mapping is the only place settings come from.
DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Local servers (Ollama, llama.cpp) ignore the key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool-calls",
    "function_call": "tool-calls",
    "content_filter": "content-filter",
}


def map_finish_reason(reason: str | None) -> FinishReason:
    return _FINISH_REASONS.get(reason or "", "other")


class OpenAIProvider(ApiProvider):
    """``model.provider: openai`` or ``openai-compatible``."""

    def __init__(self, kind: OpenAIKind = "openai", env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.name = kind
        self._kind = kind

    def _settings(self, model: Mapping[str, Any], env: Mapping[str, str]) -> tuple[str, str, str]:
        kind = self._kind
        key_env = model.get("apiKeyEnv") or "OPENAI_API_KEY"
        base_url = model.get("baseURL") or env.get("OPENAI_BASE_URL")
        if kind == "openai":
            api_key = api_key_from(kind, env, key_env, required=True) or PLACEHOLDER_KEY
            return base_url or DEFAULT_BASE_URL, api_key, model.get("model") or DEFAULT_MODELS["openai"]
        if not base_url:
            raise ProviderConfigError(
                "openai-compatible: no server URL: set the stage's model.baseURL "
                "(e.g. http://127.0.0.1:11434/v1) or OPENAI_BASE_URL"
            )
        if not model.get("model"):
            raise ProviderConfigError("openai-compatible: no model name: set the stage's model.model (e.g. llama3)")
        api_key = api_key_from(kind, env, key_env, required=False) or PLACEHOLDER_KEY
        return base_url, api_key, model["model"]

    async def _stream(self, request: ModelRequest, env: Mapping[str, str]) -> AsyncIterator[Delta]:
        kind = self._kind
        base_url, api_key, model_name = self._settings(request.model, env)
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        params: dict[str, Any] = {
            "model": model_name,
            "messages": messages,
            # Usage comes only on request, in a last chunk with no choices. v1 always asked for it.
            "stream_options": {"include_usage": True},
        }
        # OpenAI's reasoning models accept only max_completion_tokens; many compatible servers only max_tokens.
        params["max_completion_tokens" if kind == "openai" else "max_tokens"] = max_tokens_of(request.model)
        if request.model.get("temperature") is not None:
            params["temperature"] = request.model["temperature"]

        usage: Usage | None = None
        finish_reason: str | None = None
        try:
            async with openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0) as client:
                # Leaving this block (cancel, generator closed) closes the HTTP response at once; a stream
                # merely dropped keeps the server streaming until GC (notes §2).
                async with await client.chat.completions.create(**params, stream=True) as chunks:
                    async for chunk in chunks:
                        choice = chunk.choices[0] if chunk.choices else None
                        if choice is not None:
                            if choice.delta and choice.delta.content:
                                yield TextDelta(choice.delta.content)
                            if choice.finish_reason:
                                finish_reason = choice.finish_reason
                        if chunk.usage is not None:
                            usage = _usage_of(chunk.usage)
                            yield UsageDelta(usage)
        except StagecastError:
            raise
        except Exception as err:
            raise to_provider_error(kind, err) from err
        # The SDK ends quietly on a body that just stops; only a finish_reason means the model finished.
        if not finish_reason:
            raise stream_cut_error(kind, "a finish_reason")
        yield FinishDelta(reason=map_finish_reason(finish_reason), usage=usage)


def _usage_of(u: Any) -> Usage:
    details = getattr(u, "prompt_tokens_details", None)
    cached = (getattr(details, "cached_tokens", None) or 0) if details is not None else 0
    # OpenAI counts cached tokens inside prompt_tokens; ours are disjoint so each gets its own price.
    return Usage(
        input_tokens=max(0, (u.prompt_tokens or 0) - cached),
        output_tokens=u.completion_tokens or 0,
        cache_read_tokens=cached,
    )


def _message_of(body: object, fallback: str) -> str:
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        message = inner.get("message") if isinstance(inner, dict) else None
        if isinstance(message, str) and message:
            return message
    return fallback


def to_provider_error(provider: str, err: Exception) -> StagecastError:
    """Whatever the SDK or its HTTP client raised, as the error type the stage runner decides on."""
    if isinstance(err, openai.APIStatusError):
        message = _message_of(err.body, err.message)
        return ProviderHTTPError(provider, err.status_code, message, parse_retry_after(err.response.headers))
    if isinstance(err, openai.APITimeoutError | httpx2.TimeoutException):
        return ProviderNetworkError(provider, f"timed out: {err}")
    if isinstance(err, openai.APIConnectionError | httpx2.TransportError | httpx2.StreamError | OSError):
        return ProviderNetworkError(provider, f"connection failed: {err}")
    if isinstance(err, openai.APIError):
        # `data: {"error": {…}}` inside a 200 stream: how OpenAI-style servers report a failure mid-answer.
        message = _message_of(err.body, err.message)
        mapped = stream_error(provider, err.type, err.code, message)
        return mapped or ProviderProtocolError(provider, f"error during the stream: {message}")
    return ProviderProtocolError(provider, f"{type(err).__name__}: {err}")
