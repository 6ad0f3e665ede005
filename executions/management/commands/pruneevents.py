"""``manage.py pruneevents --days N``: retention by hand (beat runs the same every hour when
STAGECAST_EVENT_RETENTION_DAYS is set)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from executions.services import execution_events_prune


class Command(BaseCommand):
    help = (
        "Delete the event log of executions that ended more than N days ago. Each keeps its final event and "
        "every stage's full output and figures; its stream then ends with that final event."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="prune executions that ended more than this many days ago (default: STAGECAST_EVENT_RETENTION_DAYS)",
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        days = settings.EVENT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("give --days N (N ≥ 1), or set STAGECAST_EVENT_RETENTION_DAYS")
        result = execution_events_prune(older_than_days=days)
        self.stdout.write(
            f"Pruned the event log of {result.executions} execution(s) that ended more than {days} day(s) ago: "
            f"{result.events} event(s) deleted."
        )
