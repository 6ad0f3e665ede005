"""Selectors read: snapshots, lists, the stored event log (HackSoft style)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError

from executions.auth import can_view, visible_executions
from executions.live.relay import stream_key, sync_redis
from executions.models import Execution, ExecutionEvent, StageRun, StageStatus

#: a snapshot carries at most this much of a stage's output (its end); the full text has its own route
SNAPSHOT_OUTPUT_CHARS = 100 * 1024

FINAL_STAGE_STATUSES = {StageStatus.COMPLETED, StageStatus.FAILED, StageStatus.SKIPPED, StageStatus.CANCELLED}


def execution_get_for_user(*, user: AbstractBaseUser | AnonymousUser, execution_id: Any) -> Execution | None:
    """The execution if this user may see it; None for unknown ids and other users' runs alike."""
    if not user.is_authenticated:
        return None
    try:
        execution = Execution.objects.select_related("created_by").get(pk=execution_id)
    except (Execution.DoesNotExist, ValidationError, ValueError, TypeError):  # a malformed id is unknown too
        return None
    return execution if can_view(user, execution) else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def execution_summary(execution: Execution) -> dict[str, Any]:
    return {
        "id": str(execution.id),
        "pipelineId": execution.pipeline_id,
        "pipelineName": execution.pipeline_name,
        "status": execution.status,
        "mode": execution.mode or None,
        "tool": execution.tool or None,
        "createdBy": execution.created_by.get_username() if execution.created_by else None,
        "createdAt": _iso(execution.created_at),
        "startedAt": _iso(execution.started_at),
        "endedAt": _iso(execution.ended_at),
        "lastSeq": execution.last_seq,
        "totalCost": execution.total_cost,
        "usage": {"inputTokens": execution.input_tokens, "outputTokens": execution.output_tokens},
        "error": execution.error or None,
        # Set once retention pruned its event log: the stream then replays only the final event.
        "eventsPrunedAt": _iso(execution.events_pruned_at),
        "url": f"/executions/{execution.id}/",
    }


def execution_list(
    *, user: AbstractBaseUser | AnonymousUser, status: str | None, pipeline: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    qs = visible_executions(user).select_related("created_by").defer("pipeline_config", "input")
    if status:
        qs = qs.filter(status=status)
    if pipeline:
        qs = qs.filter(pipeline_id=pipeline)
    total = qs.count()
    return [execution_summary(e) for e in qs.order_by("-created_at")[offset : offset + limit]], total


def _live_tail(execution_id: str, after_seq: int) -> list[dict[str, Any]]:
    """Events the worker has published but not yet stored (empty when Redis is unreachable)."""
    try:
        entries = sync_redis().xrange(stream_key(execution_id), min=f"{after_seq + 1}-0")
    except Exception:  # noqa: BLE001 - the snapshot still answers from the database alone
        return []
    return [json.loads(fields[b"e"]) for _, fields in entries]


def _stored_chunks(execution_id: str, stage_ids: set[str], upto_seq: int) -> dict[str, list[str]]:
    """The stored chunks up to ``upto_seq``, the seq the caller's live tail starts after: the worker
    goes on storing while this reads, and a chunk taken from both would be shown twice (PostgreSQL's
    concurrent commits made that visible: a reload mid-run showed a chunk twice)."""
    chunks: dict[str, list[str]] = {stage_id: [] for stage_id in stage_ids}
    if not stage_ids:
        return chunks
    rows = ExecutionEvent.objects.filter(execution_id=execution_id, type="stage:output", seq__lte=upto_seq).order_by(
        "seq"
    )
    for payload in rows.values_list("payload", flat=True).iterator():
        parts = chunks.get(payload["stageId"])
        if parts is not None:
            if payload["offset"] == 0:
                parts.clear()
            parts.append(payload["output"])
    return chunks


def _stage_snapshot(stage: StageRun, output: str) -> dict[str, Any]:
    length = len(output)
    return {
        "id": stage.stage_id,
        "name": stage.name,
        "type": stage.type,
        "provider": stage.provider,
        "model": stage.model,
        "status": stage.status,
        "startedAt": _iso(stage.started_at),
        "endedAt": _iso(stage.ended_at),
        "cost": stage.cost,
        "costSource": stage.cost_source or None,
        "usage": {"inputTokens": stage.input_tokens, "outputTokens": stage.output_tokens},
        "timeToFirstToken": stage.time_to_first_token_ms,
        "attempts": stage.attempts,
        "error": stage.error or None,
        "output": output[-SNAPSHOT_OUTPUT_CHARS:] if length > SNAPSHOT_OUTPUT_CHARS else output,
        "outputLength": length,
        "outputTruncated": length > SNAPSHOT_OUTPUT_CHARS,
    }


def execution_snapshot(*, execution: Execution) -> dict[str, Any]:
    """Everything known about an execution up to ``lastSeq``: a late joiner renders it, then follows
    the event stream from ``lastSeq`` on, and sees every chunk exactly once."""
    execution.refresh_from_db()
    stages = list(execution.stages.order_by("index"))
    last_seq = execution.last_seq
    outputs = {s.stage_id: s.output for s in stages}
    tail: list[dict[str, Any]] = [] if execution.is_final else _live_tail(str(execution.id), last_seq)
    if not execution.is_final:
        # A running stage's text is in the event log until it ends: rebuild it from its chunks.
        open_ids = {s.stage_id for s in stages if s.status not in FINAL_STAGE_STATUSES}
        for stage_id, parts in _stored_chunks(str(execution.id), open_ids, execution.last_seq).items():
            outputs[stage_id] = "".join(parts)
        by_id = {s.stage_id: s for s in stages}
        for event in tail:
            last_seq = max(last_seq, event["seq"])
            kind = event["type"]
            stage_id = event.get("stageId") or (event.get("stage") or {}).get("id")
            stage = by_id.get(stage_id) if stage_id else None
            if stage is None or stage.stage_id not in open_ids:
                continue
            if kind == "stage:started":
                stage.status = StageStatus.RUNNING
                outputs[stage.stage_id] = ""
            elif kind == "stage:output":
                prefix = "" if event["offset"] == 0 else outputs[stage.stage_id]
                outputs[stage.stage_id] = prefix + event["output"]
            elif kind == "stage:retrying":
                outputs[stage.stage_id] = ""
            elif kind == "stage:completed":
                stage.status = StageStatus.COMPLETED
            elif kind == "stage:failed":
                stage.status = StageStatus.FAILED
                stage.error = event.get("error", "")
            elif kind == "stage:skipped":
                stage.status = StageStatus.SKIPPED
                stage.error = event.get("reason", "")
    snapshot = execution_summary(execution)
    snapshot["lastSeq"] = last_seq
    snapshot["input"] = execution.input
    snapshot["stages"] = [_stage_snapshot(s, outputs[s.stage_id]) for s in stages]
    return snapshot


def stage_output_full(*, execution: Execution, stage_id: str) -> str | None:
    """A stage's whole text: stored at its end, or rebuilt from the log while it runs."""
    stage = execution.stages.filter(stage_id=stage_id).first()
    if stage is None:
        return None
    if stage.status in FINAL_STAGE_STATUSES or execution.is_final:
        return stage.output
    # The stored part up to a last_seq read now, then the live tail after that same seq: no chunk twice.
    stored_seq = Execution.objects.filter(pk=execution.pk).values_list("last_seq", flat=True).first() or 0
    text = "".join(_stored_chunks(str(execution.id), {stage_id}, stored_seq)[stage_id])
    for event in _live_tail(str(execution.id), stored_seq):
        if event["type"] == "stage:output" and event["stageId"] == stage_id:
            text = (text if event["offset"] else "") + event["output"]
    return text


def events_stored_after(*, execution_id: str, after_seq: int, limit: int = 1000) -> list[dict[str, Any]]:
    rows = ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=after_seq).order_by("seq")[:limit]
    return list(rows.values_list("payload", flat=True))


# --- the portal's pages ------------------------------------------------------------------------------

ACTIVE_STATUSES = ("queued", "running")


def executions_active_count(*, user: AbstractBaseUser | AnonymousUser) -> int:
    """Queued and running executions this user may see (the navigation's badge): an indexed count."""
    return visible_executions(user).filter(status__in=ACTIVE_STATUSES).count()


def execution_history(
    *,
    user: AbstractBaseUser | AnonymousUser,
    pipeline: str | None = None,
    status: str | None = None,
    username: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[Execution], bool]:
    """A page of executions, newest first, and whether there is another page after it.

    No COUNT(*): one row more than the page tells whether an older page exists, so the history stays
    cheap on a table of millions of runs."""
    qs = visible_executions(user).select_related("created_by").defer("pipeline_config", "input")
    if pipeline:
        qs = qs.filter(pipeline_id=pipeline)
    if status == "active":
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if username:
        qs = qs.filter(created_by__username=username)
    rows = list(qs.order_by("-created_at")[offset : offset + limit + 1])
    return rows[:limit], len(rows) > limit


def stage_first_token_ts(*, execution_id: Any, stage_id: str) -> int | None:
    """When a running stage's current attempt streamed its first text (ms since the epoch), from the
    stored log; None when nothing is stored yet. Read once per page, never per event."""
    rows = ExecutionEvent.objects.filter(
        execution_id=execution_id, type__in=("stage:output", "stage:retrying"), payload__stageId=stage_id
    ).order_by("-seq")
    first: int | None = None
    for kind, offset, ts in rows.values_list("type", "payload__offset", "ts").iterator():
        if kind == "stage:retrying":
            break  # an earlier attempt's text was voided: its first token does not count
        if offset == 0:
            first = ts
    return first
