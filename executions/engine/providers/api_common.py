"""What the HTTP API providers share: default models, where keys come from, and the error table.

Imports no SDK, so the registry, cost estimates and validation can use it without loading one.
"""

from __future__ import annotations

import email.utils
import ipaddress
import os
import time
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

from executions.engine.errors import ProviderConfigError, ProviderHTTPError, ProviderNetworkError
from executions.engine.types import Delta, ModelRequest

#: The model each API provider uses when a stage names none (also what cost estimates price).
DEFAULT_MODELS: dict[str, str] = {
    "anthropic": "claude-haiku-4-5",
    "openai": "gpt-4o-mini",
    "google": "gemini-2.5-flash",
}

#: max tokens when a stage sets none (Anthropic requires one; the others get the same for symmetry).
DEFAULT_MAX_TOKENS = 1024


class ApiProvider:
    """What the three API providers share: ``env`` replaces ``os.environ`` for keys and base URLs (tests,
    secrets), read per request; ``_stream`` makes the request."""

    name: str

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = env

    def stream(self, request: ModelRequest) -> AsyncIterator[Delta]:
        return self._stream(request, os.environ if self._env is None else self._env)

    def _stream(self, request: ModelRequest, env: Mapping[str, str]) -> AsyncIterator[Delta]:
        raise NotImplementedError


#: In-stream error types (Anthropic ``event: error``, OpenAI-style ``data: {"error": …}``, Gemini's
#: status names) → the HTTP status the same failure would have had before the stream started.
STREAM_ERROR_STATUS: dict[str, int] = {
    "overloaded_error": 529,
    "api_error": 500,
    "server_error": 500,
    "internal_error": 500,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "timeout_error": 504,
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def api_key_from(provider: str, env: Mapping[str, str], name: str, *, required: bool) -> str | None:
    """The key in ``env[name]``; when ``required`` and unset or blank, a ProviderConfigError naming it."""
    value = (env.get(name) or "").strip()
    if value:
        return value
    if required:
        raise ProviderConfigError(
            f"{provider}: no API key: the environment variable {name} is not set "
            "(set it, or point the stage's model.apiKeyEnv at the variable that holds the key)"
        )
    return None


def max_tokens_of(model: Mapping[str, object]) -> int:
    value = model.get("maxTokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_MAX_TOKENS


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds to wait: ``retry-after-ms``, else ``retry-after`` as seconds or an HTTP date; None when absent."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = (lowered.get("retry-after-ms") or "").strip()
    if ms:
        try:
            value = float(ms)
        except ValueError:
            value = -1.0
        if value >= 0:
            return value / 1000
    after = (lowered.get("retry-after") or "").strip()
    if not after:
        return None
    try:
        seconds = float(after)
        return seconds if seconds >= 0 else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(after)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def stream_error(provider: str, error_type: str | None, code: object, message: str) -> ProviderHTTPError | None:
    """An error the service reported inside a 200 stream, as the HTTP error it stands for (None: unknown)."""
    status = STREAM_ERROR_STATUS.get(error_type or "")
    if status is None and isinstance(code, str):
        status = STREAM_ERROR_STATUS.get(code)
    if status is None and isinstance(code, int | str) and str(code).isdigit() and 400 <= int(code) < 600:
        status = int(code)
    if status is None:
        return None
    return ProviderHTTPError(provider, status, f"{error_type or code} during the stream: {message}")


def stream_cut_error(provider: str, what: str) -> ProviderNetworkError:
    """The body ended without the model's final event: the connection was cut mid-answer."""
    return ProviderNetworkError(provider, f"the stream ended before {what} (connection cut mid-answer)")


def is_loopback_url(url: str | None) -> bool:
    """True for http(s)://localhost, 127.x.x.x or [::1] — a model server on this machine."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
