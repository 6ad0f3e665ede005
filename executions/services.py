"""Services write: executions and their stage rows, and the final events written outside a run (a queued
run cancelled, a dead worker's run interrupted). HackSoft style: keyword-only, typed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction

from executions.engine import wire
from executions.engine.loader import load_pipeline
from executions.engine.resolve import stage_refs
from executions.engine.types import RUN_MODES, PipelineConfig, RunOverrides
from executions.engine.wire import FINAL_EVENT_TYPES, FINAL_EXECUTION_STATUSES, FINAL_STAGE_STATUSES
from executions.live.relay import publish_one, request_cancel, stream_events_after
from executions.models import Execution, ExecutionEvent, ExecutionStatus, StageRun
from executions.selectors import stage_texts_stored

log = logging.getLogger(__name__)


def pipeline_get(*, ref: str, allow_paths: bool = True) -> PipelineConfig:
    """A validated pipeline by id (built-in or from STAGECAST_PIPELINES_DIRS), or by file path where
    ``allow_paths`` (the command line; never a web request)."""
    return load_pipeline(ref, settings.PIPELINES_DIRS, allow_paths=allow_paths)


def execution_create(
    *,
    pipeline: PipelineConfig,
    input: str,
    overrides: RunOverrides | None = None,
    user: User | AnonymousUser | None = None,
) -> Execution:
    overrides = overrides or RunOverrides()
    if overrides.mode is not None and overrides.mode not in RUN_MODES:
        raise ValueError(f"mode must be one of {', '.join(RUN_MODES)}")
    execution = Execution.objects.create(
        pipeline_id=pipeline["id"],
        pipeline_name=pipeline.get("name") or pipeline["id"],
        pipeline_config=pipeline,
        input=input,
        mode=overrides.mode or "",
        tool=overrides.tool or "",
        created_by=user if user is not None and user.is_authenticated else None,
    )
    refs = stage_refs(pipeline, overrides, os.environ)
    StageRun.objects.bulk_create(
        StageRun(
            execution=execution,
            index=index,
            stage_id=ref.id,
            name=ref.name,
            type=ref.type,
            provider=ref.provider,
            model=ref.model,
        )
        for index, ref in enumerate(refs)
    )
    return execution


#: the Celery task that runs an execution, by name: the web enqueues it without importing the worker
RUN_EXECUTION_TASK = "executions.run_execution"


def execution_enqueue(
    *,
    pipeline: PipelineConfig,
    input: str,
    overrides: RunOverrides | None = None,
    user: User | AnonymousUser | None = None,
) -> Execution:
    """Creates a queued execution and hands it to a worker once the rows are committed."""
    with transaction.atomic():
        execution = execution_create(pipeline=pipeline, input=input, overrides=overrides, user=user)
        execution_queue_on_commit(execution)
    return execution


def execution_queue_on_commit(execution: Execution) -> None:
    """Hands a queued execution to a worker once its rows are committed (a worker must find them)."""
    transaction.on_commit(lambda: current_app.send_task(RUN_EXECUTION_TASK, args=[str(execution.id)]))


def execution_cancel(*, execution: Execution, reason: str) -> bool:
    """Stops a run: a queued one never starts; a running one's worker stops the model call at once.

    Returns False when the execution had already ended (a final status is never overwritten).
    """
    if _execution_end(
        execution_id=str(execution.pk), expected=ExecutionStatus.QUEUED, status="cancelled", reason=reason
    ):
        return True
    if Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).exists():
        request_cancel(str(execution.pk), reason)
        return True
    return False


INTERRUPTED_REASON = "the worker running this execution stopped (crashed or was killed) before it ended"


def execution_interrupt(*, execution_id: str, reason: str = INTERRUPTED_REASON) -> bool:
    """A running execution whose worker died becomes ``interrupted``, keeping every chunk it streamed:
    those the worker stored, and the tail it had published but not yet stored (the stream outlives it)."""
    _events_recover_unstored(execution_id=execution_id)
    try:
        ended = _execution_end(
            execution_id=execution_id, expected=ExecutionStatus.RUNNING, status="interrupted", reason=reason
        )
    except IntegrityError:
        # The worker is alive after all and wrote that seq itself (its lease lapsed, say, while Redis
        # was briefly away): the whole change is rolled back and the run goes on.
        return False
    if ended:
        log.warning("execution %s interrupted: %s", execution_id, reason)
    return ended


def _events_recover_unstored(*, execution_id: str) -> None:
    stored = Execution.objects.filter(pk=execution_id).values_list("last_seq", flat=True).first() or 0
    rows = [
        ExecutionEvent(execution_id=execution_id, seq=e["seq"], type=e["type"], payload=e, ts=e["ts"])
        for e in stream_events_after(execution_id, stored)
    ]
    if rows:
        ExecutionEvent.objects.bulk_create(rows, ignore_conflicts=True)


def _execution_end(*, execution_id: str, expected: str, status: str, reason: str) -> bool:
    """Ends an execution from outside its run (a queued run cancelled, a dead worker's run interrupted):
    compare-and-swap from ``expected``, every stage settled as the wire model says, the final event
    stored after the last stored one — then, once committed, published (persist, then publish)."""
    with transaction.atomic():
        seq = (
            ExecutionEvent.objects.filter(execution_id=execution_id)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
            or 0
        ) + 1
        event = wire.make_event(f"execution:{status}", execution_id=execution_id, seq=seq, reason=reason)
        ended_at = datetime.fromtimestamp(event["ts"] / 1000, UTC)
        # Compare-and-swap: only a run still in ``expected`` is ended here; a final status stays.
        if not Execution.objects.filter(pk=execution_id, status=expected).update(
            status=status, ended_at=ended_at, error=reason, last_seq=seq
        ):
            return False
        open_rows = list(StageRun.objects.filter(execution_id=execution_id).exclude(status__in=FINAL_STAGE_STATUSES))
        texts = stage_texts_stored(
            execution_id=execution_id, stage_ids={r.stage_id for r in open_rows if r.status == "running"}, upto_seq=seq
        )
        for row in open_rows:
            stage = wire.StageState(id=row.stage_id, status=row.status)
            wire.settle_stage(stage, status, reason, event["ts"])
            fields: dict[str, object] = {"status": stage.status, "error": stage.error}
            if row.stage_id in texts:
                fields.update(output=texts[row.stage_id], output_length=len(texts[row.stage_id]), ended_at=ended_at)
            StageRun.objects.filter(pk=row.pk).update(**fields)
        ExecutionEvent.objects.create(
            execution_id=execution_id, seq=seq, type=event["type"], payload=event, ts=event["ts"]
        )
        transaction.on_commit(lambda: publish_one(execution_id, event, ended=True))
    return True


@dataclass(frozen=True, slots=True)
class PruneResult:
    executions: int
    events: int


def execution_events_prune(*, older_than_days: int, batch: int = 200, now: datetime | None = None) -> PruneResult:
    """Retention: deletes the event log of executions that ended more than ``older_than_days`` ago.

    Each keeps its final event, so its SSE stream still ends with exactly one final event (the viewer
    is told, in a comment, which seqs are gone: executions/consumers.py), and its Execution and StageRun
    rows — every stage's full output, status, cost and tokens — so the page and the snapshot show it
    all. Batches of ``batch`` executions, one short transaction each, so the web and the workers are
    never held up behind one long DELETE.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    prunable = Execution.objects.filter(
        events_pruned_at__isnull=True, ended_at__lt=cutoff, status__in=sorted(FINAL_EXECUTION_STATUSES)
    ).order_by("ended_at")
    executions = events = 0
    while True:
        ids = list(prunable.values_list("pk", flat=True)[:batch])
        if not ids:
            return PruneResult(executions=executions, events=events)
        with transaction.atomic():
            # The final event is the one a pruned execution keeps, so its stream still ends with it.
            log = ExecutionEvent.objects.filter(execution_id__in=ids).exclude(type__in=sorted(FINAL_EVENT_TYPES))
            deleted, _ = log.delete()
            Execution.objects.filter(pk__in=ids).update(events_pruned_at=datetime.now(UTC))
        executions += len(ids)
        events += deleted
