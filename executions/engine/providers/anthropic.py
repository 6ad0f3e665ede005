"""Anthropic Messages API through the official async SDK, streamed.

The SDK parses the SSE; this module maps its events to deltas and its errors to ours. Retries belong
to the stage runner, so the SDK's own are off (``max_retries=0``): each attempt is one fresh HTTP call.
The client lives inside the call (``async with``): a pooled connection belongs to the loop that opened
it, and Celery runs each execution under its own ``asyncio.run``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anthropic
import httpx2

from executions.engine.errors import (
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

log = logging.getLogger(__name__)

NAME = "anthropic"
#: The SDK's own default, passed explicitly so an ``env`` mapping is the only place settings come from.
DEFAULT_BASE_URL = "https://api.anthropic.com"

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}


_temperature_warned = False


def _warn_temperature_ignored() -> None:
    # SDK 2.x removed temperature/top_p/top_k and sends anthropic-version 2026-10-21, which answers any of
    # them with HTTP 400 (even 1.0): sending the stage's temperature would fail every such stage.
    global _temperature_warned
    if not _temperature_warned:
        _temperature_warned = True
        log.warning("anthropic: model.temperature is not sent: the current Messages API rejects sampling settings")


def map_stop_reason(reason: str | None) -> FinishReason:
    return _STOP_REASONS.get(reason or "", "other")


class AnthropicProvider(ApiProvider):
    """``model.provider: anthropic``."""

    name = NAME

    async def _stream(self, request: ModelRequest, env: Mapping[str, str]) -> AsyncIterator[Delta]:
        model = request.model
        # Read before any I/O: a missing key fails with no request made.
        api_key = api_key_from(NAME, env, model.get("apiKeyEnv") or "ANTHROPIC_API_KEY", required=True)
        base_url = model.get("baseURL") or env.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        params: dict[str, Any] = {
            "model": model.get("model") or DEFAULT_MODELS[NAME],
            "max_tokens": max_tokens_of(model),
            "messages": [{"role": "user", "content": request.prompt}],
        }
        if model.get("temperature") is not None:
            _warn_temperature_ignored()
        if request.system:
            params["system"] = request.system

        usage = Usage()
        stop_reason: str | None = None
        finished = False
        try:
            async with anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0) as client:
                # Leaving this block (cancel, generator closed) closes the HTTP response at once.
                async with await client.messages.create(**params, stream=True) as events:
                    async for event in events:
                        if event.type == "message_start":
                            u = event.message.usage
                            usage = Usage(
                                input_tokens=u.input_tokens,
                                output_tokens=u.output_tokens,
                                cache_read_tokens=u.cache_read_input_tokens or 0,
                                cache_write_tokens=u.cache_creation_input_tokens or 0,
                            )
                            yield UsageDelta(usage)
                        elif event.type == "content_block_delta":
                            if event.delta.type == "text_delta" and event.delta.text:
                                yield TextDelta(event.delta.text)
                        elif event.type == "message_delta":
                            # Cumulative counts; input and cache fields appear only on newer API versions.
                            d = event.usage
                            usage = Usage(
                                input_tokens=usage.input_tokens if d.input_tokens is None else d.input_tokens,
                                output_tokens=d.output_tokens,
                                cache_read_tokens=d.cache_read_input_tokens or usage.cache_read_tokens,
                                cache_write_tokens=d.cache_creation_input_tokens or usage.cache_write_tokens,
                            )
                            stop_reason = event.delta.stop_reason
                            yield UsageDelta(usage)
                        elif event.type == "message_stop":
                            finished = True
        except StagecastError:
            raise
        except Exception as err:
            raise to_provider_error(err) from err
        # A body that simply stops (a proxy or server closing early) ends the SDK's iteration quietly.
        if not finished:
            raise stream_cut_error(NAME, "message_stop")
        yield FinishDelta(reason=map_stop_reason(stop_reason), usage=usage)


def to_provider_error(err: Exception) -> StagecastError:
    """Whatever the SDK or its HTTP client raised, as the error type the stage runner decides on."""
    if isinstance(err, anthropic.APIStatusError):
        message = err.api_message or err.message
        if err.status_code < 400:
            # An `event: error` frame inside a 200 stream: the SDK keeps the response's status.
            mapped = stream_error(NAME, err.type, None, message)
            return mapped or ProviderProtocolError(NAME, f"error event during the stream: {message}")
        return ProviderHTTPError(NAME, err.status_code, message, parse_retry_after(err.response.headers))
    if isinstance(err, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ProviderNetworkError(NAME, f"timed out: {err}")
    if isinstance(err, anthropic.APIConnectionError | httpx2.TransportError | httpx2.StreamError | OSError):
        # A connection dropped mid-body surfaces as httpx2.RemoteProtocolError, not an SDK error.
        return ProviderNetworkError(NAME, f"connection failed: {err}")
    return ProviderProtocolError(NAME, f"{type(err).__name__}: {err}")
