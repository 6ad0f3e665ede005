"""Django's ``check``, which also reports the agent CLIs this machine can run (executions/checks.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands.check import Command as DjangoCheckCommand

from executions.checks import REPORT_AGENT_CLIS


class Command(DjangoCheckCommand):
    def handle(self, *app_labels: Any, **options: Any) -> None:
        token = REPORT_AGENT_CLIS.set(True)
        try:
            super().handle(*app_labels, **options)
        finally:
            REPORT_AGENT_CLIS.reset(token)
