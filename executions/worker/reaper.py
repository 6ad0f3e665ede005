"""Finding runs whose worker died: their lease lapsed while the row still says running.

Such a run becomes ``interrupted`` with the event ``execution:interrupted`` and a reason; every chunk it
streamed before the crash is kept — from the database, and from the live stream for the tail the
worker had published but not yet stored.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

from executions.live.relay import lease_lapsed, publish_one, stream_key, sync_redis
from executions.models import Execution, ExecutionEvent, ExecutionStatus, StageRun, StageStatus

log = logging.getLogger(__name__)

INTERRUPTED_REASON = "the worker running this execution stopped (crashed or was killed) before it ended"


def executions_interrupt_stale() -> list[str]:
    """Marks every running execution without a live lease as interrupted; returns their ids."""
    client = sync_redis()
    done = []
    for execution_id in Execution.objects.filter(status=ExecutionStatus.RUNNING).values_list("id", flat=True):
        if lease_lapsed(str(execution_id), client):
            if execution_interrupt(execution_id=str(execution_id)):
                done.append(str(execution_id))
    return done


def _recover_unstored_events(execution_id: str) -> None:
    """Stores what the worker published but had not yet written (the stream outlives the worker)."""
    stored = Execution.objects.filter(pk=execution_id).values_list("last_seq", flat=True).first() or 0
    entries = sync_redis().xrange(stream_key(execution_id), min=f"{stored + 1}-0")
    rows = []
    for _, fields in entries:
        event = json.loads(fields[b"e"])
        rows.append(
            ExecutionEvent(
                execution_id=execution_id, seq=event["seq"], type=event["type"], payload=event, ts=event["ts"]
            )
        )
    if rows:
        ExecutionEvent.objects.bulk_create(rows, ignore_conflicts=True)


def _stage_outputs_from_events(execution_id: str, stage_ids: list[str]) -> dict[str, str]:
    """Rebuilds the output of stages that were running, from their chunks in the event log."""
    parts: dict[str, list[str]] = {stage_id: [] for stage_id in stage_ids}
    events = ExecutionEvent.objects.filter(execution_id=execution_id, type="stage:output").order_by("seq")
    for payload in events.values_list("payload", flat=True).iterator():
        chunks = parts.get(payload["stageId"])
        if chunks is None:
            continue
        if payload["offset"] == 0:
            chunks.clear()  # a retry voided what came before
        chunks.append(payload["output"])
    return {stage_id: "".join(chunks) for stage_id, chunks in parts.items()}


def execution_interrupt(*, execution_id: str, reason: str = INTERRUPTED_REASON) -> bool:
    _recover_unstored_events(execution_id)
    try:
        event = _interrupt_in_db(execution_id, reason)
    except IntegrityError:
        # The worker is alive after all and wrote that seq itself (its lease lapsed, say, while Redis
        # was briefly away): the whole change is rolled back and the run goes on.
        return False
    if event is None:
        return False
    publish_one(execution_id, event, ended=True)
    log.warning("execution %s interrupted: %s", execution_id, reason)
    return True


def _interrupt_in_db(execution_id: str, reason: str) -> dict | None:
    now = datetime.now(UTC)
    with transaction.atomic():
        # Compare-and-swap: only a run that is still running is interrupted; a final status stays.
        if not Execution.objects.filter(pk=execution_id, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.INTERRUPTED, ended_at=now, error=reason
        ):
            return None
        running = list(
            StageRun.objects.filter(execution_id=execution_id, status=StageStatus.RUNNING).values_list(
                "stage_id", flat=True
            )
        )
        for stage_id, output in _stage_outputs_from_events(execution_id, running).items():
            StageRun.objects.filter(execution_id=execution_id, stage_id=stage_id).update(
                status=StageStatus.CANCELLED, output=output, output_length=len(output), error=reason, ended_at=now
            )
        StageRun.objects.filter(execution_id=execution_id, status=StageStatus.PENDING).update(
            status=StageStatus.CANCELLED, error="not run: the execution was interrupted"
        )
        last = ExecutionEvent.objects.filter(execution_id=execution_id).order_by("-seq").values_list("seq", flat=True)
        seq = (last.first() or 0) + 1
        event = {
            "type": "execution:interrupted",
            "executionId": execution_id,
            "seq": seq,
            "ts": int(time.time() * 1000),
            "reason": reason,
        }
        ExecutionEvent.objects.create(
            execution_id=execution_id, seq=seq, type=event["type"], payload=event, ts=event["ts"]
        )
        Execution.objects.filter(pk=execution_id).update(last_seq=seq)
    return event
