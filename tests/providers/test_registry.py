"""resolve_provider, and the helpers the API providers share (executions/engine/providers/api_common.py)."""

from __future__ import annotations

import email.utils
import sys
import types

import pytest

from executions.engine.errors import ProviderConfigError
from executions.engine.providers import resolve_provider
from executions.engine.providers.anthropic import AnthropicProvider
from executions.engine.providers.api_common import is_loopback_url, parse_retry_after, stream_error
from executions.engine.providers.google import GoogleProvider
from executions.engine.providers.openai import OpenAIProvider

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("provider", "cls", "name"),
    [
        ("anthropic", AnthropicProvider, "anthropic"),
        ("openai", OpenAIProvider, "openai"),
        ("openai-compatible", OpenAIProvider, "openai-compatible"),
        ("google", GoogleProvider, "google"),
    ],
)
def test_api_providers(provider: str, cls: type, name: str) -> None:
    resolved = resolve_provider({"provider": provider})
    assert isinstance(resolved, cls) and resolved.name == name


def test_local_and_cli_load_their_modules_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    local = types.ModuleType("executions.engine.providers.local")
    local.LocalProvider = lambda model: ("local", model)  # type: ignore[attr-defined]
    cli = types.ModuleType("executions.engine.providers.cli")
    cli.cli_provider = lambda model, env=None: ("cli", model, env)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, local.__name__, local)
    monkeypatch.setitem(sys.modules, cli.__name__, cli)
    model = {"provider": "local", "path": "m.gguf"}
    assert resolve_provider(model) == ("local", model)  # type: ignore[comparison-overlap]
    model = {"provider": "cli", "tool": "claude"}
    assert resolve_provider(model) == ("cli", model, None)  # type: ignore[comparison-overlap]
    assert resolve_provider(model, {"K": "v"}) == ("cli", model, {"K": "v"})  # type: ignore[comparison-overlap]


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="unknown model provider 'mistral'"):
        resolve_provider({"provider": "mistral"})


def test_retry_after_seconds_fractions_dates_and_ms() -> None:
    assert parse_retry_after({"retry-after": "3"}, NOW) == 3.0
    assert parse_retry_after({"Retry-After": "2.5"}, NOW) == 2.5
    assert parse_retry_after({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, NOW) == 30.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}, NOW) == 0.25


def test_retry_after_in_the_past_is_now_absent_or_unreadable_is_none() -> None:
    assert parse_retry_after({"retry-after": email.utils.formatdate(NOW - 5, usegmt=True)}, NOW) == 0.0
    assert parse_retry_after({"retry-after": "soon"}, NOW) is None
    assert parse_retry_after({"retry-after-ms": "x"}, NOW) is None
    assert parse_retry_after({}, NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_stream_error_types_and_codes() -> None:
    statuses = [stream_error("p", t, None, "m") for t in ("overloaded_error", "rate_limit_error", "UNAVAILABLE")]
    assert [e.status if e else None for e in statuses] == [529, 429, 503]
    by_code = stream_error("p", "BadRequestError", 400, "m")
    assert by_code is not None and by_code.status == 400
    assert stream_error("p", "weird", None, "m") is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:11434/v1", True),
        ("http://localhost/v1", True),
        ("http://[::1]:8000", True),
        ("https://openrouter.ai/api/v1", False),
        ("http://10.0.0.5:8000/v1", False),
        (None, False),
    ],
)
def test_loopback_urls(url: str | None, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
