"""Keeps an execution's rows current while the engine runs it, without slowing the stream down.

The engine hands every event to its sink on its event loop; a database write there would stall the
stream (and Django forbids sync ORM calls in async code). So the sink only folds and enqueues, and one
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

from executions.engine import wire
from executions.models import FINAL_EXECUTION_STATUSES, Execution, ExecutionEvent, ExecutionStatus, StageRun

EVENT_BATCH = 200
#: how long the writer keeps retrying a write the database refuses for a while (SQLite locked past its
#: busy timeout, PostgreSQL restarting or unreachable) before the run gives up on its record
DB_RETRY_S = 300.0
DB_RETRY_MAX_PAUSE_S = 5.0

log = logging.getLogger(__name__)


def _stage_fields(kind: str, stage: wire.StageState, event: wire.Event) -> dict[str, Any]:
    """What a stage's row learns from one of its boundary events (the wire state already applied it)."""
    if kind == "stage:started":
        return {"status": "running", "started_at": _at(event["ts"]), "attempts": 1}
    if kind == "stage:retrying":
        return {"attempts": stage.attempts}
    text = stage.text.text() if stage.text is not None else ""
    ended: dict[str, Any] = {"status": stage.status, "ended_at": _at(event["ts"]), "error": stage.error}
    if kind == "stage:completed":
        result = event["result"]
        ended.update(
            output=text,
            output_length=len(text),
            data=event.get("data"),
            cost=stage.cost,
            cost_source=stage.cost_source,
            input_tokens=stage.input_tokens,
            output_tokens=stage.output_tokens,
            time_to_first_token_ms=stage.ttft_ms,
            attempts=stage.attempts,
            finish_reason=result.get("finishReason") or "",
            provider=stage.provider,
            model=stage.model,
        )
    elif kind == "stage:failed":
        ended.update(output=text, output_length=len(text))
    return ended


def _at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts / 1000, UTC)


class ExecutionRecorder:
    """``on_event`` for the executor (with the live publisher, through ``fan_out``). It folds the events
    into the wire model's state — the one reducer, which also keeps each running stage's text — and
    enqueues what the database must learn: every event, a stage row at each stage boundary, the final
    status. Times stored are the events' own, so the record and the event log agree to the millisecond."""

    def __init__(self, execution_id: str, *, on_stored: Callable[[int], None] | None = None) -> None:
        self.execution_id = execution_id
        #: told the last seq stored after each batch (the live stream may then drop what is durable)
        self._on_stored = on_stored
        self.state = wire.RunState(id=execution_id, status="running")
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"recorder-{execution_id[:8]}", daemon=True)
        self._error: BaseException | None = None
        self._thread.start()

    # --- the sink (on the engine's event loop: fold and enqueue only, this is the per-chunk hot path) ---

    def __call__(self, event: wire.Event) -> None:
        kind = event["type"]
        unsettled = [s for s in self.state.stages if not s.is_final] if kind in wire.FINAL_EVENT_TYPES else []
        stage = wire.apply_event(self.state, event)
        self._queue.put(("event", event))
        if kind == "stage:output":
            return
        if stage is not None:
            self._queue.put(("stage", (stage.id, _stage_fields(kind, stage, event))))
        for settled in unsettled:
            # No stage of an ended run stays pending or running; one that was streaming keeps its text.
            fields: dict[str, Any] = {"status": settled.status, "error": settled.error}
            if settled.text is not None and settled.started_ms is not None:
                fields.update(
                    output=settled.text.text(), output_length=settled.output_length, ended_at=_at(event["ts"])
                )
            self._queue.put(("stage", (settled.id, fields)))
        if kind in wire.FINAL_EVENT_TYPES:
            self._queue.put(("final", event))

    # --- lifecycle ----------------------------------------------------------------------------------

    def wait_stored(self, timeout: float = 30.0) -> None:
        """Returns once everything handed over so far is in the database (a test's snapshot point)."""
        stored = threading.Event()
        self._queue.put(("barrier", stored))
        deadline = time.monotonic() + timeout
        while not stored.wait(0.05) and self._thread.is_alive():  # a writer that died sets nothing
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {self.execution_id}: the record was not written in {timeout} s")
        if self._error is not None:
            raise self._error

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
                        self._retrying(self._mark_running, value["ts"])
                    pending_events.append(self._event_row(value))
                    # Batch while the stream outruns the writer; write at once when it keeps up.
                    if self._queue.empty() or len(pending_events) >= EVENT_BATCH:
                        self._flush(pending_events)
                elif kind == "stage":
                    stage_id, fields = value
                    self._retrying(self._update_stage, stage_id, fields)
                elif kind == "final":
                    self._retrying(self._finish, value)
                elif kind == "barrier":
                    value.set()
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

    def _mark_running(self, ts: int) -> None:
        Execution.objects.filter(pk=self.execution_id, status=ExecutionStatus.QUEUED).update(
            status=ExecutionStatus.RUNNING, started_at=_at(ts)
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

    def _finish(self, final: wire.Event) -> None:
        totals = StageRun.objects.filter(execution_id=self.execution_id)
        cost = sum(s.cost for s in totals)
        # Compare-and-swap: a final status, once written (say, interrupted), is never overwritten.
        Execution.objects.filter(pk=self.execution_id).exclude(status__in=FINAL_EXECUTION_STATUSES).update(
            status=wire.final_event_status(final),
            ended_at=_at(final["ts"]),
            error=wire.final_event_error(final),
            total_cost=cost,
            input_tokens=sum(s.input_tokens for s in totals),
            output_tokens=sum(s.output_tokens for s in totals),
        )
