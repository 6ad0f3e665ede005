from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from executions.engine.loader import list_pipelines


class Command(BaseCommand):
    help = "List the built-in pipelines and this deployment's own (STAGECAST_PIPELINES_DIRS)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON array on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        entries = list_pipelines(settings.PIPELINES_DIRS)
        if options["json"]:
            rows = [
                {
                    "id": e.id,
                    "name": e.name,
                    "description": e.description,
                    "source": e.source,
                    "builtin": e.builtin,
                    "valid": not e.issues,
                    "shadowed": e.shadowed,
                    "stages": len(e.config["stages"]) if e.config else None,
                    "issues": [{"path": p, "message": m} for p, m in e.issues],
                }
                for e in entries
            ]
            self.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        width = max((len(e.id) for e in entries), default=0)
        for e in entries:
            where = "built-in" if e.builtin else e.source
            if e.shadowed:
                where += ", overridden by a deployment file with the same id"
            if e.issues:
                count = len(e.issues)
                line = f"{e.id:<{width}}  INVALID ({count} problem{'s' if count != 1 else ''}: validatepipeline {e.id})"
                self.stdout.write(self.style.ERROR(line) + f"  [{where}]")
            else:
                stages = len(e.config["stages"]) if e.config else 0
                self.stdout.write(f"{e.id:<{width}}  {e.name} · {stages} stage{'s' if stages != 1 else ''}  [{where}]")
                if e.description:
                    self.stdout.write(f"{'':<{width}}  {e.description.strip().splitlines()[0]}")
