"""Services write: creating executions and their stage rows (HackSoft style: keyword-only, typed)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .engine.loader import load_pipeline
from .engine.resolve import stage_refs
from .engine.types import RUN_MODES, PipelineConfig, RunOverrides
from .events import publish_one, request_cancel
from .models import Execution, ExecutionEvent, ExecutionStatus, StageRun, StageStatus


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
    from .tasks import run_execution  # tasks import services; imported here to keep that one-way

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
