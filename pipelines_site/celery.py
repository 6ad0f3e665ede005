"""The Celery app: `celery -A pipelines_site worker` runs executions; beat (`-B` on one machine, its own
service in docker-compose) finds runs whose worker died and, when retention is on, prunes old event logs."""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines_site.settings")

app = Celery("pipelines_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The tasks live with the rest of the worker side (executions/worker/), not at the default "<app>.tasks".
app.autodiscover_tasks(["executions.worker"])
app.conf.beat_schedule = {
    # A dead worker's lease lapses after 15 s; checking every 10 s marks its run interrupted within 25 s.
    "reap-interrupted-executions": {"task": "executions.reap_interrupted", "schedule": 10.0},
}
#: how often beat prunes event logs past STAGECAST_EVENT_RETENTION_DAYS: each pass deletes a few hours' worth
PRUNE_EVERY_S = 3600.0


@app.on_after_configure.connect
def add_event_retention(sender: Celery, **kwargs: Any) -> None:
    # Read once the configuration is loaded: importing Django settings at module level here would run
    # while the settings module itself is being imported (pipelines_site/__init__ imports this file).
    from django.conf import settings

    if settings.EVENT_RETENTION_DAYS > 0:
        sender.conf.beat_schedule["prune-event-log"] = {
            "task": "executions.prune_events",
            "schedule": PRUNE_EVERY_S,
            "kwargs": {"days": settings.EVENT_RETENTION_DAYS},
        }


@setup_logging.connect
def use_django_logging(**kwargs: Any) -> None:
    """With a receiver here Celery leaves the root logger alone, so a worker logs exactly as Daphne does
    (settings.LOGGING: JSON lines on a server) instead of in Celery's own multi-line format."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
