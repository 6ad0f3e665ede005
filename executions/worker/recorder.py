"""Keeps an execution's rows current while the engine runs it, without slowing the stream down.

The engine calls back on its event loop for every chunk; a database write there would stall the
stream (and Django forbids sync ORM calls in async code). So the callbacks only enqueue, and one
writer thread applies the queue in order: StageRun rows at each stage boundary, ExecutionEvent rows in
batches. ``close()`` drains the queue, so when a run's final event is stored everything before it is too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction

from executions.engine.types import ExecutionOutcome, ExecutorCallbacks, StageRef, StageResult
from executions.models import (
    FINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionEvent,
    ExecutionStatus,
    StageRun,
    StageStatus,
)

EVENT_BATCH = 200
#: how long the writer keeps retrying a write the database refuses for a while (SQLite locked past its
#: busy timeout, PostgreSQL restarting or unreachable) before the run gives up on its record
DB_RETRY_S = 300.0
DB_RETRY_MAX_PAUSE_S = 5.0

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class ExecutionRecorder(ExecutorCallbacks):
    def __init__(self, execution_id: str, *, on_stored: Callable[[int], None] | None = None) -> None:
        self.execution_id = execution_id
        #: told the last seq stored after each batch (the live stream may then drop what is durable)
        self._on_stored = on_stored
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"recorder-{execution_id[:8]}", daemon=True)
        self._outputs: dict[str, list[str]] = {}
        self._error: BaseException | None = None
        self._thread.start()

    # --- callbacks (on the engine's event loop: enqueue only, this is the per-chunk hot path) --------

    def on_event(self, event: dict[str, Any]) -> None:
        self._queue.put(("event", event))

    def on_stage_start(self, stage: StageRef, index: int, total: int) -> None:
        self._outputs[stage.id] = []
        self._queue.put(("stage", (stage.id, {"status": StageStatus.RUNNING, "started_at": _now()})))

    def on_stage_output(self, stage: StageRef, output: str, is_final: bool, offset: int) -> None:
        parts = self._outputs.setdefault(stage.id, [])
        if offset == 0 and parts:
            parts.clear()  # a retry voids what the failed attempt streamed
        if output:
            parts.append(output)

    def on_stage_complete(self, stage: StageRef, result: StageResult, output: str, data: Any) -> None:
        self._outputs.pop(stage.id, None)
        fields = {
            "status": StageStatus.COMPLETED,
            "ended_at": _now(),
            "output": output,
            "output_length": len(output),
            "data": data,
            "cost": result.cost,
            "cost_source": result.cost_source,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
            "time_to_first_token_ms": result.time_to_first_token_ms,
            "attempts": result.attempts,
            "finish_reason": result.finish_reason,
            "provider": result.provider,
            "model": result.model,
        }
        self._queue.put(("stage", (stage.id, fields)))

    def on_stage_skipped(self, stage: StageRef, reason: str) -> None:
        self._queue.put(("stage", (stage.id, {"status": StageStatus.SKIPPED, "error": reason, "ended_at": _now()})))

    def on_stage_failed(self, stage: StageRef, error: str, output: str) -> None:
        self._outputs.pop(stage.id, None)
        fields = {
            "status": StageStatus.FAILED,
            "error": error,
            "output": output,
            "output_length": len(output),
            "ended_at": _now(),
        }
        self._queue.put(("stage", (stage.id, fields)))

    def on_pipeline_complete(self, outcome: ExecutionOutcome) -> None:
        # Stages that were running when a cancel came keep what they streamed.
        for stage_id, state in outcome.stages.items():
            if state.status == "cancelled":
                fields = {
                    "status": StageStatus.CANCELLED,
                    "output": state.output,
                    "output_length": len(state.output),
                    "error": outcome.error or "cancelled",
                    "ended_at": _now(),
                }
                self._queue.put(("stage", (stage_id, fields)))
            elif state.status in ("pending", "running"):
                # No stage of an ended run stays pending or running.
                if outcome.status == "cancelled":
                    fields = {"status": StageStatus.CANCELLED, "error": "not run: the execution was cancelled"}
                else:
                    reason = f"not run: the execution ended ({outcome.status})"
                    fields = {"status": StageStatus.SKIPPED, "error": reason}
                self._queue.put(("stage", (stage_id, fields)))
        self._queue.put(("outcome", outcome))

    # --- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Drain the queue and stop the writer; re-raises a write error so it is never silent. Idempotent."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    # --- the writer thread --------------------------------------------------------------------------

    def _run(self) -> None:
        close_old_connections()
        pending_events: list[ExecutionEvent] = []
        try:
            while True:
                item = self._queue.get()
                if item is None or item[0] != "event":
                    self._flush(pending_events)
                if item is None:
                    break
                kind, value = item
                if kind == "event":
                    if value["type"] == "execution:started":
                        self._retrying(self._mark_running)
                    pending_events.append(self._event_row(value))
                    # Batch while the stream outruns the writer; write at once when it keeps up.
                    if self._queue.empty() or len(pending_events) >= EVENT_BATCH:
                        self._flush(pending_events)
                elif kind == "stage":
                    stage_id, fields = value
                    self._retrying(self._update_stage, stage_id, fields)
                elif kind == "outcome":
                    self._retrying(self._finish, value)
        except BaseException as err:  # noqa: BLE001 - handed to close(), which re-raises it
            self._error = err
        finally:
            connection.close()

    def _event_row(self, event: dict[str, Any]) -> ExecutionEvent:
        return ExecutionEvent(
            execution_id=self.execution_id, seq=event["seq"], type=event["type"], payload=event, ts=event["ts"]
        )

    def _retrying(self, write: Callable[..., object], *args: Any) -> None:
        """Runs ``write`` until the database takes it. Every write here is idempotent (an atomic batch,
        an update to fixed values, a compare-and-swap), so one that failed is simply made again. The
        live stream does not wait for this: viewers keep getting events from Redis meanwhile."""
        pause, deadline = 0.1, time.monotonic() + DB_RETRY_S
        while True:
            try:
                write(*args)
                return
            except (OperationalError, InterfaceError) as err:
                if time.monotonic() >= deadline:
                    raise
                log.warning("execution %s: database write failed (%s); again in %.1f s", self.execution_id, err, pause)
            # A connection the database dropped is not reused; the next query opens a new one.
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, DB_RETRY_MAX_PAUSE_S)

    def _mark_running(self) -> None:
        Execution.objects.filter(pk=self.execution_id, status=ExecutionStatus.QUEUED).update(
            status=ExecutionStatus.RUNNING, started_at=_now()
        )

    def _update_stage(self, stage_id: str, fields: dict[str, Any]) -> None:
        StageRun.objects.filter(execution_id=self.execution_id, stage_id=stage_id).update(**fields)

    def _store(self, rows: list[ExecutionEvent]) -> None:
        with transaction.atomic():
            ExecutionEvent.objects.bulk_create(rows)
            Execution.objects.filter(pk=self.execution_id).update(last_seq=rows[-1].seq)

    def _flush(self, rows: list[ExecutionEvent]) -> None:
        if not rows:
            return
        self._retrying(self._store, rows)
        if self._on_stored is not None:
            self._on_stored(rows[-1].seq)
        rows.clear()

    def _finish(self, outcome: ExecutionOutcome) -> None:
        totals = StageRun.objects.filter(execution_id=self.execution_id)
        cost = sum(s.cost for s in totals)
        # Compare-and-swap: a final status, once written (say, interrupted), is never overwritten.
        Execution.objects.filter(pk=self.execution_id).exclude(status__in=FINAL_EXECUTION_STATUSES).update(
            status=outcome.status,
            ended_at=_now(),
            error=outcome.error or "",
            total_cost=cost,
            input_tokens=sum(s.input_tokens for s in totals),
            output_tokens=sum(s.output_tokens for s in totals),
        )
