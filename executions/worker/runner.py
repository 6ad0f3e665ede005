"""Running an execution in a worker: the engine, the live stream, the durable record, cancel and lease.

The Celery task only calls :func:`execution_run`. Everything here runs inside one ``asyncio.run``: the
async SDK clients and agent CLIs are created in that loop, and a sibling task waiting on the cancel
list (BLPOP, no database polling) stops the in-flight model call within milliseconds
(shared/notes/model-measurements.md §4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import redis

from executions.engine.executor import PipelineExecutor
from executions.engine.types import ExecutionOutcome, fan_out
from executions.engine.wire import FINAL_EVENT_TYPES
from executions.live.relay import (
    HARD_CAP,
    LEASE_RENEW_S,
    LEASE_TTL_S,
    EventPublisher,
    async_redis,
    async_redis_release,
    lease_key,
    publish_redis,
    sync_redis,
    wait_for_cancel,
)
from executions.models import Execution, ExecutionStatus
from executions.reruns import execution_reuse
from executions.worker.recorder import ExecutionRecorder

log = logging.getLogger(__name__)


#: after a failed publish, the next attempt waits this long, doubling up to the cap: while Redis is
#: away each attempt costs a failed connect on the run's event loop, so it is not made per event
RETRY_FIRST_S = 0.2
RETRY_CAP_S = 5.0
#: how long the end of a run keeps trying to hand its last events to a Redis that is away
FINISH_PATIENCE_S = 20.0


class LivePublisher:
    """Sends each event to the execution's stream the moment it exists — except the final one, which
    goes out only after everything before it is stored (persist, then publish), so a viewer that sees
    the end can read the finished execution from the database.

    Redis going away (a restart, a network blip) never fails the run and never costs an event: the
    database record does not depend on the stream, and what could not be sent waits here, in order,
    until Redis answers again. Viewers meanwhile resume from their cursor; the database fills any hole
    (a restarted Redis has lost the stream's earlier events)."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self.final_event: dict[str, Any] | None = None
        # Bounded like the stream itself; an event dropped here is in the database, which viewers replay.
        self._unsent: deque[dict[str, Any]] = deque(maxlen=HARD_CAP)
        self._retry_at = 0.0
        self._retry_s = RETRY_FIRST_S

    def __call__(self, event: dict[str, Any]) -> None:
        # Hot path (the executor's sink, through fan_out): one XADD per event, no ORM, no formatting
        # beyond the JSON.
        if event["type"] in FINAL_EVENT_TYPES:
            self.final_event = event
        elif self._unsent:
            self._unsent.append(event)
            if time.monotonic() >= self._retry_at:
                self._send_unsent()
        else:
            try:
                self.publisher.publish(event)
            except redis.RedisError as err:
                self._unsent.append(event)
                self._failed(err)

    def trim_stored(self, stored_seq: int) -> None:
        """Called by the recorder's thread after each batch; trimming may wait for Redis to return."""
        try:
            self.publisher.trim_stored(stored_seq)
        except redis.RedisError:
            pass

    def finish(self) -> None:
        """Publishes what is left, the final event last; gives up (logged) when Redis stays away — the
        database holds everything, and viewers replay it from there."""
        if self.final_event is not None:
            self._unsent.append(self.final_event)
        deadline = time.monotonic() + FINISH_PATIENCE_S
        while self._unsent and not self._send_unsent() and time.monotonic() < deadline:
            time.sleep(min(self._retry_s, max(0.0, deadline - time.monotonic())))
        try:
            self.publisher.end()
        except redis.RedisError as err:
            log.warning("execution %s: could not set its stream to expire: %s", self.publisher.execution_id, err)
        if self._unsent:
            log.error(
                "execution %s: Redis unreachable at the end; %d events are in the database only",
                self.publisher.execution_id,
                len(self._unsent),
            )

    def _send_unsent(self) -> bool:
        try:
            while self._unsent:
                self.publisher.publish(self._unsent[0])
                self._unsent.popleft()
        except redis.RedisError as err:
            self._failed(err)
            return False
        if self._retry_s != RETRY_FIRST_S:
            log.warning("execution %s: Redis answers again; the live stream goes on", self.publisher.execution_id)
            self._retry_s = RETRY_FIRST_S
        return True

    def _failed(self, err: redis.RedisError) -> None:
        if self._retry_s == RETRY_FIRST_S:
            log.warning(
                "execution %s: cannot publish to Redis (%s); keeping events until it answers",
                self.publisher.execution_id,
                err,
            )
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self._retry_s * 2, RETRY_CAP_S)


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
    publisher = EventPublisher(execution_id, publish_redis())
    live = LivePublisher(publisher)
    recorder = ExecutionRecorder(execution_id, on_stored=live.trim_stored)
    executor = PipelineExecutor(
        execution.pipeline_config,
        input=execution.input,
        execution_id=execution_id,
        on_event=fan_out(live, recorder),
        overrides=execution.overrides,
        reuse=execution_reuse(execution=execution),
    )
    try:
        outcome = asyncio.run(_run_with_cancel_and_lease(executor, execution_id, recorder))
    finally:
        recorder.close()
        live.finish()
        try:
            sync_redis().delete(lease_key(execution_id))
        except redis.RedisError:
            pass  # it lapses by itself; the run's row is final already, so no reaper takes it for dead
    return outcome.status


async def _run_with_cancel_and_lease(
    executor: PipelineExecutor, execution_id: str, recorder: ExecutionRecorder
) -> ExecutionOutcome:
    async def watch_cancel() -> None:
        reason = await wait_for_cancel(execution_id)
        executor.cancel(reason)

    async def renew_lease() -> None:
        client = async_redis()
        while True:
            try:
                await client.set(lease_key(execution_id), "1", ex=LEASE_TTL_S)
                pause: float = LEASE_RENEW_S
            except redis.RedisError as err:
                # A lease renewer that died with its connection would get a live run reaped as interrupted.
                log.warning("execution %s: cannot renew its lease (%s); trying again", execution_id, err)
                pause = 0.5
            await asyncio.sleep(pause)

    helpers = [asyncio.create_task(watch_cancel()), asyncio.create_task(renew_lease())]
    try:
        outcome = await executor.run()
        # Stored before the lease goes: a run whose writer waits out a database outage at its end
        # must not look dead to the reaper, which takes a running row without a lease for interrupted.
        await asyncio.to_thread(recorder.close)
        return outcome
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        await async_redis_release()  # measured: +90 KB per run in the pool process without it
