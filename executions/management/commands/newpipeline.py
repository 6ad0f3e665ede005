from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from executions.engine.loader import new_pipeline_text


class Command(BaseCommand):
    help = "Write a new pipeline file from a commented template into the first pipelines dir."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the pipeline id: lowercase letters, digits and dashes")
        parser.add_argument("--dir", help="write here instead of the first of STAGECAST_PIPELINES_DIRS")

    def handle(self, *args: Any, name: str, **options: Any) -> None:
        if not re.fullmatch(r"[a-z0-9-]+", name):
            raise CommandError(f"{name!r} is not a pipeline id: use lowercase letters, digits and dashes", returncode=2)
        directory = Path(options["dir"]) if options["dir"] else settings.PIPELINES_DIRS[0]
        target = directory / f"{name}.yaml"
        if target.exists():
            raise CommandError(f"{target} already exists; pick another name or edit that file")
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(new_pipeline_text(name), encoding="utf-8")
        self.stdout.write(f"Wrote {target}")
        self.stdout.write(f"Check it:  python manage.py validatepipeline {name}")
        self.stdout.write(f"Run it:    python manage.py runpipeline {name} --input '…'")
