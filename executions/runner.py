"""Running an execution in a worker: the engine, the live stream, the durable record, cancel and lease.

The Celery task only calls :func:`execution_run`. Everything here runs inside one ``asyncio.run``: the
async SDK clients and agent CLIs are created in that loop, and a sibling task waiting on the cancel
list (BLPOP, no database polling) stops the in-flight model call within milliseconds
(shared/notes/model-measurements.md §4).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from .engine.executor import PipelineExecutor
from .engine.types import CallbackChain, ExecutionOutcome, ExecutorCallbacks
from .events import LEASE_RENEW_S, LEASE_TTL_S, EventPublisher, async_redis, lease_key, sync_redis, wait_for_cancel
from .models import Execution, ExecutionStatus
from .recorder import ExecutionRecorder
from .services import execution_overrides

log = logging.getLogger(__name__)

FINAL_EVENT_TYPES = frozenset(
    {"execution:completed", "execution:cancelled", "execution:failed", "execution:interrupted"}
)


class LivePublisher(ExecutorCallbacks):
    """Sends each event to the execution's stream the moment it exists — except the final one, which
    goes out only after everything before it is stored (persist, then publish), so a viewer that sees
    the end can read the finished execution from the database."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self.final_event: dict[str, Any] | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        # Hot path: one XADD per event, no ORM, no formatting beyond the JSON.
        if event["type"] in FINAL_EVENT_TYPES:
            self.final_event = event
        else:
            self.publisher.publish(event)


def execution_claim(*, execution_id: str) -> bool:
    """queued → running, at most once: a redelivered or duplicate task finds nothing to claim."""
    # The lease exists before the row says running, so the reaper never sees a running run without one.
    sync_redis().set(lease_key(execution_id), "1", ex=LEASE_TTL_S)
    claimed = Execution.objects.filter(pk=execution_id, status=ExecutionStatus.QUEUED).update(
        status=ExecutionStatus.RUNNING, started_at=datetime.now(UTC)
    )
    if not claimed:
        sync_redis().delete(lease_key(execution_id))
    return bool(claimed)


def execution_run(*, execution_id: str) -> str | None:
    """Runs a queued execution to its end; returns its final status (None when it was not queued)."""
    if not execution_claim(execution_id=execution_id):
        log.info("execution %s is not queued any more; nothing to run", execution_id)
        return None
    execution = Execution.objects.get(pk=execution_id)
    publisher = EventPublisher(execution_id)
    live = LivePublisher(publisher)
    recorder = ExecutionRecorder(execution_id, on_stored=publisher.trim_stored)
    executor = PipelineExecutor(
        execution.pipeline_config,
        input=execution.input,
        execution_id=execution_id,
        callbacks=CallbackChain(live, recorder),
        overrides=execution_overrides(execution),
    )
    outcome: ExecutionOutcome | None = None
    try:
        outcome = asyncio.run(_run_with_cancel_and_lease(executor, execution_id))
    finally:
        recorder.close()
        if live.final_event is not None:
            publisher.publish(live.final_event)
        publisher.end()
        sync_redis().delete(lease_key(execution_id))
    return outcome.status if outcome else None


async def _run_with_cancel_and_lease(executor: PipelineExecutor, execution_id: str) -> ExecutionOutcome:
    async def watch_cancel() -> None:
        reason = await wait_for_cancel(execution_id)
        executor.cancel(reason)

    async def renew_lease() -> None:
        client = async_redis()
        while True:
            await client.set(lease_key(execution_id), "1", ex=LEASE_TTL_S)
            await asyncio.sleep(LEASE_RENEW_S)

    helpers = [asyncio.create_task(watch_cancel()), asyncio.create_task(renew_lease())]
    try:
        return await executor.run()
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await async_redis().aclose()
