"""Celery tasks: thin. They pass ids across the process boundary and call services."""

from __future__ import annotations

from celery import shared_task

from .reaper import executions_interrupt_stale
from .runner import execution_run


@shared_task(name="executions.run_execution", acks_late=False, ignore_result=True)
def run_execution(execution_id: str) -> None:
    # acks_late stays off: a run is never started twice by redelivery (Redis's visibility timeout
    # would hand a long run to a second worker). A worker that dies mid-run is caught by the lease.
    execution_run(execution_id=execution_id)


@shared_task(name="executions.reap_interrupted", ignore_result=True)
def reap_interrupted() -> None:
    executions_interrupt_stale()
