"""Celery tasks: thin. They pass ids across the process boundary and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from executions.services import RUN_EXECUTION_TASK, execution_events_prune
from executions.worker.preload import preload_providers  # noqa: F401  (connects the worker_init signal)
from executions.worker.reaper import executions_interrupt_stale
from executions.worker.runner import execution_run

log = logging.getLogger(__name__)


@shared_task(name=RUN_EXECUTION_TASK, acks_late=False, ignore_result=True)
def run_execution(execution_id: str) -> None:
    # acks_late stays off: a run is never started twice by redelivery (Redis's visibility timeout
    # would hand a long run to a second worker). A worker that dies mid-run is caught by the lease.
    execution_run(execution_id=execution_id)


@shared_task(name="executions.reap_interrupted", ignore_result=True)
def reap_interrupted() -> None:
    executions_interrupt_stale()


@shared_task(name="executions.prune_events", ignore_result=True)
def prune_events(days: int) -> None:
    # Scheduled by beat when STAGECAST_EVENT_RETENTION_DAYS > 0 (pipelines_site/celery.py).
    result = execution_events_prune(older_than_days=days)
    if result.executions:
        log.info("pruned the event log of %d execution(s): %d event(s)", result.executions, result.events)
