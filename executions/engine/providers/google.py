"""Google Gemini through the official google-genai SDK's async streaming (``client.aio``).

SDK retries are off (one attempt): the stage runner retries. The client lives inside the call and is
closed on the way out, which also closes its connection pool — the SDK nests several async generators
and does not close the inner ones when the outer one is closed, so closing the pool is what ends the
HTTP stream at once on cancel.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, cast

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

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
)
from executions.engine.types import Delta, FinishDelta, FinishReason, ModelRequest, TextDelta, Usage, UsageDelta

NAME = "google"

_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "MODEL_ARMOR"}
_TOOL = {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"}
#: A trailing API version in a base URL (v1 pipelines wrote ``…/v1beta``); the SDK adds the version itself.
_VERSION_SUFFIX = re.compile(r"^(?P<root>.*?)/(?P<version>v\d+(?:(?:alpha|beta)\d*)?)/?$")


def map_finish_reason(reason: str | None, *, called_tool: bool = False) -> FinishReason:
    if called_tool:
        return "tool-calls"
    if reason == "STOP":
        return "stop"
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content-filter"
    if reason in _TOOL:
        return "tool-calls"
    return "other"


def http_options_for(base_url: str | None) -> genai_types.HttpOptions:
    """SDK HTTP options: no retries, and the base URL split into root and API version when it names one."""
    options = genai_types.HttpOptions(retry_options=genai_types.HttpRetryOptions(attempts=1))
    if base_url:
        match = _VERSION_SUFFIX.match(base_url)
        if match:
            options.base_url = match["root"] + "/"
            options.api_version = match["version"]
        else:
            options.base_url = base_url
    return options


class GoogleProvider(ApiProvider):
    """``model.provider: google``."""

    name = NAME

    async def _stream(self, request: ModelRequest, env: Mapping[str, str]) -> AsyncIterator[Delta]:
        model = request.model
        api_key = api_key_from(NAME, env, model.get("apiKeyEnv") or "GOOGLE_API_KEY", required=True)
        # GOOGLE_GEMINI_BASE_URL is the SDK's own variable, read here so `env` stays the only source.
        base_url = model.get("baseURL") or env.get("GOOGLE_GEMINI_BASE_URL")
        config = genai_types.GenerateContentConfig(
            max_output_tokens=max_tokens_of(model),
            # No tools are declared; keep the SDK from looping on function calls all the same.
            automatic_function_calling=genai_types.AutomaticFunctionCallingConfig(disable=True),
        )
        if request.system:
            config.system_instruction = request.system
        if model.get("temperature") is not None:
            config.temperature = model["temperature"]

        usage = Usage()
        finish: str | None = None
        called_tool = False
        try:
            client = genai.Client(api_key=api_key, vertexai=False, http_options=http_options_for(base_url))
            try:
                async with client.aio as aio:
                    stream = await aio.models.generate_content_stream(
                        model=model.get("model") or DEFAULT_MODELS[NAME], contents=request.prompt, config=config
                    )
                    # The SDK returns an async generator but types it as an AsyncIterator, which has no aclose().
                    async with contextlib.aclosing(
                        cast(AsyncGenerator[genai_types.GenerateContentResponse, None], stream)
                    ):
                        async for chunk in stream:
                            if chunk.usage_metadata is not None:
                                # Gemini repeats usage on every chunk; pass it on only when it moved.
                                latest = _usage_of(chunk.usage_metadata)
                                if latest != usage:
                                    usage = latest
                                    yield UsageDelta(usage)
                            feedback = chunk.prompt_feedback
                            if feedback is not None and feedback.block_reason is not None:
                                finish = "SAFETY"  # the prompt itself was blocked: nothing will follow
                            for candidate in chunk.candidates or []:
                                parts = candidate.content.parts if candidate.content else None
                                for part in parts or []:
                                    if part.function_call is not None:
                                        called_tool = True
                                    if part.text and not part.thought:
                                        yield TextDelta(part.text)
                                if candidate.finish_reason is not None:
                                    finish = _enum_name(candidate.finish_reason)
            finally:
                client.close()
        except StagecastError:
            raise
        except Exception as err:
            raise to_provider_error(err) from err
        if finish is None:
            raise stream_cut_error(NAME, "a finishReason")
        yield FinishDelta(reason=map_finish_reason(finish, called_tool=called_tool), usage=usage)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _usage_of(u: genai_types.GenerateContentResponseUsageMetadata) -> Usage:
    cached = u.cached_content_token_count or 0
    # Gemini counts cached tokens inside promptTokenCount and bills thinking as output.
    return Usage(
        input_tokens=max(0, (u.prompt_token_count or 0) - cached),
        output_tokens=(u.candidates_token_count or 0) + (u.thoughts_token_count or 0),
        cache_read_tokens=cached,
    )


def to_provider_error(err: Exception) -> StagecastError:
    """Whatever the SDK or its HTTP client raised, as the error type the stage runner decides on."""
    if isinstance(err, genai_errors.APIError):
        # Also an error sent inside the stream (`data: {"error": {code, …}}`): the SDK raises it with its code.
        headers = getattr(getattr(err, "response", None), "headers", None)
        retry_after = parse_retry_after(dict(headers)) if headers is not None else None
        message = err.message or str(err)
        code: object = err.code  # typed int, but read from the response body, where it may be missing or text
        status = code if isinstance(code, int) and code >= 400 else 500
        return ProviderHTTPError(NAME, status, message, retry_after)
    if isinstance(err, httpx2.TimeoutException):
        return ProviderNetworkError(NAME, f"timed out: {err}")
    if isinstance(err, httpx2.TransportError | httpx2.StreamError | OSError):
        return ProviderNetworkError(NAME, f"connection failed: {err}")
    # UnknownApiResponseError (a chunk that is not JSON), pydantic.ValidationError and the like.
    return ProviderProtocolError(NAME, f"{type(err).__name__}: {err}")
