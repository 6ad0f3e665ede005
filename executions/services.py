"""Services write: creating executions and their stage rows (HackSoft style: keyword-only, typed)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from executions.engine.loader import load_pipeline
from executions.engine.resolve import stage_refs
from executions.engine.types import RUN_MODES, PipelineConfig, RunOverrides
from executions.live.relay import FINAL_EVENT_TYPES, publish_one, request_cancel
from executions.models import (
    FINAL_EXECUTION_STATUSES,
    Execution,
    ExecutionEvent,
    ExecutionStatus,
    StageRun,
    StageStatus,
)


def pipeline_get(*, ref: str, allow_paths: bool = True) -> PipelineConfig:
    """A validated pipeline by id (built-in or from STAGECAST_PIPELINES_DIRS), or by file path where
    ``allow_paths`` (the command line; never a web request)."""
    return load_pipeline(ref, settings.PIPELINES_DIRS, allow_paths=allow_paths)


def execution_create(
    *,
    pipeline: PipelineConfig,
    input: str,
    overrides: RunOverrides | None = None,
    user: AbstractBaseUser | None = None,
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


def execution_overrides(execution: Execution) -> RunOverrides:
    return RunOverrides(mode=execution.mode or None, tool=execution.tool or None)


def execution_enqueue(
    *,
    pipeline: PipelineConfig,
    input: str,
    overrides: RunOverrides | None = None,
    user: AbstractBaseUser | None = None,
) -> Execution:
    """Creates a queued execution and hands it to a worker once the rows are committed."""
    from executions.worker.tasks import run_execution  # tasks import services; imported here to keep that one-way

    with transaction.atomic():
        execution = execution_create(pipeline=pipeline, input=input, overrides=overrides, user=user)
        transaction.on_commit(lambda: run_execution.delay(str(execution.id)))
    return execution


def execution_cancel(*, execution: Execution, reason: str) -> bool:
    """Stops a run: a queued one never starts; a running one's worker stops the model call at once.

    Returns False when the execution had already ended (a final status is never overwritten).
    """
    now = datetime.now(UTC)
    with transaction.atomic():
        if Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.QUEUED).update(
            status=ExecutionStatus.CANCELLED, ended_at=now, error=reason
        ):
            execution.stages.update(status=StageStatus.CANCELLED, error="not run: the execution was cancelled")
            seq = execution.last_seq + 1
            event = {
                "type": "execution:cancelled",
                "executionId": str(execution.pk),
                "seq": seq,
                "ts": int(time.time() * 1000),
                "reason": reason,
            }
            ExecutionEvent.objects.create(
                execution=execution, seq=seq, type=event["type"], payload=event, ts=event["ts"]
            )
            Execution.objects.filter(pk=execution.pk).update(last_seq=seq)
            transaction.on_commit(lambda: publish_one(str(execution.pk), event, ended=True))
            return True
    if Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).exists():
        request_cancel(str(execution.pk), reason)
        return True
    return False


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
        events_pruned_at__isnull=True, ended_at__lt=cutoff, status__in=FINAL_EXECUTION_STATUSES
    ).order_by("ended_at")
    executions = events = 0
    while True:
        ids = list(prunable.values_list("pk", flat=True)[:batch])
        if not ids:
            return PruneResult(executions=executions, events=events)
        with transaction.atomic():
            # The final event is the one a pruned execution keeps, so its stream still ends with it.
            log = ExecutionEvent.objects.filter(execution_id__in=ids).exclude(type__in=FINAL_EVENT_TYPES)
            deleted, _ = log.delete()
            Execution.objects.filter(pk__in=ids).update(events_pruned_at=datetime.now(UTC))
        executions += len(ids)
        events += deleted
