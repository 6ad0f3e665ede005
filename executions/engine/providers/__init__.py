"""The registry: a stage's ``model.provider`` → the Provider that streams it.

Modules load lazily, so an API-only run never loads the local model's runtime and a local run never
loads the HTTP SDKs (importing ``anthropic`` alone takes a good part of a second).
"""

from __future__ import annotations

from collections.abc import Mapping

from executions.engine.errors import ProviderConfigError
from executions.engine.providers.api_common import DEFAULT_MAX_TOKENS, DEFAULT_MODELS
from executions.engine.types import PROVIDERS, ModelConfig, Provider

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_MODELS", "resolve_provider"]


def resolve_provider(model: ModelConfig, env: Mapping[str, str] | None = None) -> Provider:
    """The provider for ``model``. ``env`` replaces ``os.environ`` for API keys and base URLs."""
    name = model.get("provider")
    if name == "anthropic":
        from executions.engine.providers.anthropic import AnthropicProvider

        return AnthropicProvider(env)
    if name in ("openai", "openai-compatible"):
        from executions.engine.providers.openai import OpenAIProvider

        return OpenAIProvider(name, env)
    if name == "google":
        from executions.engine.providers.google import GoogleProvider

        return GoogleProvider(env)
    if name == "local":
        from .local import LocalProvider

        return LocalProvider(model)
    if name == "cli":
        from .cli import cli_provider

        # The agent CLI's process gets the same environment the API providers read keys from.
        return cli_provider(model) if env is None else cli_provider(model, env=env)
    raise ProviderConfigError(f"unknown model provider {name!r} (one of: {', '.join(PROVIDERS)})")
