"""The three APIs' real wire formats, for the fake model servers (tests/helpers/fake_models.py).

Each ``Wire`` routes a request and renders frames: Anthropic's ``event:`` + ``data:`` SSE, OpenAI's
``data: {chat.completion.chunk}`` lines ending in ``data: [DONE]``, and Gemini's
``streamGenerateContent?alt=sse`` data-only lines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tests.helpers.fake_script import FakeUsage, StopReason


def sse(data: Any, event: str | None = None, *, crlf: bool = False) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    end = "\r\n" if crlf else "\n"
    head = f"event: {event}{end}" if event else ""
    return f"{head}data: {payload}{end}{end}".encode()


@dataclass
class Route:
    """A model call (``model`` set), or a fixed JSON answer (``status``/``json``)."""

    model: str | None = None
    stream: bool = False
    status: int = 200
    json: Any = None


@dataclass
class Ctx:
    model: str
    body: dict[str, Any]
    id: str
    usage: FakeUsage


class AnthropicWire:
    name = "anthropic"
    STOP = {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool-calls": "tool_use",
        "content-filter": "refusal",
        "stop-sequence": "stop_sequence",
    }
    ERROR_TYPES = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }

    def base_url(self, origin: str) -> str:
        return origin

    def route(self, method: str, path: str, query: str, body: Any) -> Route | None:
        if method == "POST" and path == "/v1/messages":
            b = body if isinstance(body, dict) else {}
            return Route(model=str(b.get("model") or "claude-fake"), stream=b.get("stream") is True)
        if method == "POST" and path == "/v1/messages/count_tokens":
            # Roughly four characters per token, like the real tokenizer on English text.
            return Route(json={"input_tokens": max(1, len(json.dumps(body)) // 4)})
        if method == "GET" and path.startswith("/v1/models"):
            info = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                for m in ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1")
            ]
            return Route(json={"data": info, "has_more": False, "first_id": info[0]["id"], "last_id": info[-1]["id"]})
        return None

    @staticmethod
    def _usage(u: FakeUsage, output: int) -> dict[str, int]:
        return {
            "input_tokens": u.input_tokens,
            "cache_creation_input_tokens": u.cache_write_tokens,
            "cache_read_input_tokens": u.cache_read_tokens,
            "output_tokens": output,
        }

    def start(self, ctx: Ctx) -> list[bytes]:
        message = {
            "id": f"msg_{ctx.id}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            # The real API reports input and cache tokens here, and a placeholder output count.
            "usage": self._usage(ctx.usage, 1),
        }
        return [
            sse({"type": "message_start", "message": message}, "message_start"),
            sse(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                "content_block_start",
            ),
            sse({"type": "ping"}, "ping"),
        ]

    def delta(self, ctx: Ctx, text: str, index: int) -> bytes:
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            "content_block_delta",
        )

    def finish(self, ctx: Ctx, stop: StopReason) -> list[bytes]:
        return [
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.STOP[stop], "stop_sequence": None},
                    "usage": self._usage(ctx.usage, ctx.usage.output_tokens),
                },
                "message_delta",
            ),
            sse({"type": "message_stop"}, "message_stop"),
        ]

    def stream_error(self, ctx: Ctx, error_type: str | None, message: str) -> bytes:
        return sse({"type": "error", "error": {"type": error_type or "overloaded_error", "message": message}}, "error")

    def whole(self, ctx: Ctx, text: str, stop: StopReason) -> Any:
        return {
            "id": f"msg_{ctx.id}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": self.STOP[stop],
            "stop_sequence": None,
            "usage": self._usage(ctx.usage, ctx.usage.output_tokens),
        }

    def error_body(self, status: int, error_type: str | None, message: str) -> Any:
        return {
            "type": "error",
            "error": {"type": error_type or self.ERROR_TYPES.get(status, "api_error"), "message": message},
        }


class OpenAIWire:
    name = "openai"
    FINISH = {
        "stop": "stop",
        "length": "length",
        "tool-calls": "tool_calls",
        "content-filter": "content_filter",
        "stop-sequence": "stop",
    }
    CREATED = 1_760_000_000

    def base_url(self, origin: str) -> str:
        return f"{origin}/v1"

    def route(self, method: str, path: str, query: str, body: Any) -> Route | None:
        if method == "POST" and path == "/v1/chat/completions":
            b = body if isinstance(body, dict) else {}
            return Route(model=str(b.get("model") or "gpt-fake"), stream=b.get("stream") is True)
        if method == "GET" and path == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": self.CREATED, "owned_by": "fake"}
                for m in ("gpt-4o-mini", "gpt-4o")
            ]
            return Route(json={"object": "list", "data": data})
        return None

    @staticmethod
    def _usage(u: FakeUsage) -> dict[str, Any]:
        # OpenAI counts cached prompt tokens inside prompt_tokens.
        prompt = u.input_tokens + u.cache_read_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": u.output_tokens,
            "total_tokens": prompt + u.output_tokens,
            "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens},
        }

    def _chunk(self, ctx: Ctx, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{ctx.id}",
            "object": "chat.completion.chunk",
            "created": self.CREATED,
            "model": ctx.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def start(self, ctx: Ctx) -> list[bytes]:
        return [sse(self._chunk(ctx, {"role": "assistant", "content": ""}, None))]

    def delta(self, ctx: Ctx, text: str, index: int) -> bytes:
        return sse(self._chunk(ctx, {"content": text}, None))

    def finish(self, ctx: Ctx, stop: StopReason) -> list[bytes]:
        frames = [sse(self._chunk(ctx, {}, self.FINISH[stop]))]
        options = ctx.body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage") is True:
            # As the real API: only when asked, the same envelope with no choices.
            frames.append(sse({**self._chunk(ctx, {}, None), "choices": [], "usage": self._usage(ctx.usage)}))
        frames.append(sse("[DONE]"))
        return frames

    def stream_error(self, ctx: Ctx, error_type: str | None, message: str) -> bytes:
        kind = error_type or "server_error"
        return sse({"error": {"message": message, "type": kind, "param": None, "code": kind}})

    def whole(self, ctx: Ctx, text: str, stop: StopReason) -> Any:
        return {
            "id": f"chatcmpl-{ctx.id}",
            "object": "chat.completion",
            "created": self.CREATED,
            "model": ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": self.FINISH[stop],
                }
            ],
            "usage": self._usage(ctx.usage),
        }

    def error_body(self, status: int, error_type: str | None, message: str) -> Any:
        kind = error_type or (
            "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
        )
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class GoogleWire:
    name = "google"
    FINISH = {
        "stop": "STOP",
        "length": "MAX_TOKENS",
        "tool-calls": "STOP",
        "content-filter": "SAFETY",
        "stop-sequence": "STOP",
    }
    STATUS = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }
    CODE = {status: code for code, status in STATUS.items()}
    # Any API version: the SDK's default is /v1, v1-era base URLs say /v1beta.
    MODEL_PATH = re.compile(r"^/(v\d+\w*)/models/([^/:]+):(streamGenerateContent|generateContent)$")

    def base_url(self, origin: str) -> str:
        return origin

    def route(self, method: str, path: str, query: str, body: Any) -> Route | None:
        match = self.MODEL_PATH.match(path) if method == "POST" else None
        if not match:
            return None
        stream = match[3] == "streamGenerateContent"
        if stream and "alt=sse" not in query.split("&"):
            return None  # without alt=sse the real API streams one JSON array; no client we use asks for it
        return Route(model=match[2], stream=stream)

    @staticmethod
    def _usage(u: FakeUsage, output: int) -> dict[str, int]:
        prompt = u.input_tokens + u.cache_read_tokens  # Gemini counts cached tokens inside promptTokenCount
        usage = {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output}
        if u.cache_read_tokens:
            usage["cachedContentTokenCount"] = u.cache_read_tokens
        return usage

    def _response(self, ctx: Ctx, text: str, output: int, finish: str | None = None) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(ctx.usage, output),
            "modelVersion": ctx.model,
            "responseId": f"resp_{ctx.id}",
        }

    def start(self, ctx: Ctx) -> list[bytes]:
        return []

    def delta(self, ctx: Ctx, text: str, index: int) -> bytes:
        return sse(self._response(ctx, text, index + 1), crlf=True)

    def finish(self, ctx: Ctx, stop: StopReason) -> list[bytes]:
        # The real API puts finishReason and the final usage on the last chunk, often with an empty text part.
        return [sse(self._response(ctx, "", ctx.usage.output_tokens, self.FINISH[stop]), crlf=True)]

    def stream_error(self, ctx: Ctx, error_type: str | None, message: str) -> bytes:
        status = "UNAVAILABLE" if error_type in (None, "overloaded_error") else error_type
        return sse({"error": {"code": self.CODE.get(status, 500), "message": message, "status": status}}, crlf=True)

    def whole(self, ctx: Ctx, text: str, stop: StopReason) -> Any:
        return self._response(ctx, text, ctx.usage.output_tokens, self.FINISH[stop])

    def error_body(self, status: int, error_type: str | None, message: str) -> Any:
        name = error_type or self.STATUS.get(status, "INTERNAL" if status >= 500 else "UNKNOWN")
        return {"error": {"code": status, "message": message, "status": name}}


Wire = AnthropicWire | OpenAIWire | GoogleWire
WIRES: dict[str, type[Wire]] = {"anthropic": AnthropicWire, "openai": OpenAIWire, "google": GoogleWire}
