from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from executions.engine.errors import PipelineConfigError, UnknownPipelineError
from executions.engine.loader import load_pipeline


class Command(BaseCommand):
    help = "Check a pipeline (id or file): every problem with its path; exit 1 on any."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pipeline", help="a pipeline id or a path to a .yaml file")
        parser.add_argument("--json", action="store_true", help='{"ok", "issues": [{path, message}]} on stdout')

    def handle(self, *args: Any, **options: Any) -> None:
        ref = options["pipeline"]
        try:
            config = load_pipeline(ref, settings.PIPELINES_DIRS)
        except PipelineConfigError as exc:
            if options["json"]:
                issues = [{"path": p, "message": m} for p, m in exc.issues]
                code = "unknown_pipeline" if isinstance(exc, UnknownPipelineError) else "invalid_pipeline"
                self.stdout.write(json.dumps({"ok": False, "code": code, "issues": issues}, ensure_ascii=False))
            else:
                self.stderr.write(self.style.ERROR(str(exc)))
            raise SystemExit(1) from None
        if options["json"]:
            self.stdout.write(json.dumps({"ok": True, "id": config["id"], "issues": []}))
        else:
            count = len(config["stages"])
            stages = f"{count} stage{'s' if count != 1 else ''}"
            self.stdout.write(self.style.SUCCESS(f"{ref}: valid ({config['id']}, {stages})"))
