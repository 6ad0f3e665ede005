"""Agent CLIs (Claude Code, opencode, Gemini CLI) and any program as a stage's model.

``cli_provider(model)`` is what the provider registry calls; ``installed_tools()`` says which CLIs this
machine can run (the Django check and the run form use it).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...types import ModelConfig, Provider
from .discovery import ToolStatus, installed_tools
from .provider import CLIProvider
from .tools import AGENT_TOOLS

__all__ = ["AGENT_TOOLS", "CLIProvider", "ToolStatus", "cli_provider", "installed_tools"]


def cli_provider(model: ModelConfig, *, env: Mapping[str, str] | None = None, kill_grace_s: float = 1.5) -> Provider:
    """The provider for a stage with ``provider: cli``; raises ProviderConfigError for an unknown tool."""
    return CLIProvider(model, env=env, kill_grace_s=kill_grace_s)
