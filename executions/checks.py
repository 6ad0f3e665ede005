"""System checks: which agent CLIs this machine can run, shown by ``manage.py check``.

Informational only: a missing CLI is an Info (stages with that tool will say so when they run), one that
is installed but does not answer ``--version`` is a Warning. Neither fails the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Info, Tags, register
from django.core.checks import Warning as CheckWarning

from executions.engine.providers.cli import AGENT_TOOLS, installed_tools

#: set by ``manage.py check`` (executions/management/commands/check.py)
REPORT_AGENT_CLIS: ContextVar[bool] = ContextVar("report_agent_clis", default=False)


@register(Tags.compatibility)
def agent_cli_check(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    # Every management command runs the checks; asking each CLI for its version costs about a second
    # and the report is noise outside `manage.py check`, so only that command (ours) turns it on.
    if not REPORT_AGENT_CLIS.get():
        return []
    messages: list[CheckMessage] = []
    for name, status in installed_tools().items():
        tool = AGENT_TOOLS[name]
        if status.runnable:
            messages.append(
                Info(f"{tool.product} {status.version} is installed at {status.path}.", id="executions.I001")
            )
        elif status.installed:
            messages.append(
                CheckWarning(
                    f"{tool.product} at {status.path} does not run: {status.error}.",
                    hint=f"Stages with `tool: {name}` will fail. Reinstall it ({tool.install}) or set {tool.path_env}.",
                    id="executions.W001",
                )
            )
        else:
            messages.append(
                Info(
                    f"{tool.product} is not installed: stages with `tool: {name}` cannot run here.",
                    hint=status.error,
                    id="executions.I002",
                )
            )
    return messages
