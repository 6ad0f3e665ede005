"""Selectors read: snapshots, lists, the stored event log (HackSoft style)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, overload

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError

from executions.auth import can_view, visible_executions
from executions.engine import wire
from executions.live.relay import stream_events_after
from executions.models import Execution, ExecutionEvent, StageRun


def execution_get_for_user(*, user: User | AnonymousUser, execution_id: Any) -> Execution | None:
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
        # A re-run's origin (executions/reruns.py): null for a run of a pipeline.
        "parentId": str(execution.parent_id) if execution.parent_id else None,
        "fromStage": execution.from_stage or None,
        "url": f"/executions/{execution.id}/",
    }


def execution_list(
    *, user: User | AnonymousUser, status: str | None, pipeline: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    qs = visible_executions(user).select_related("created_by").defer("pipeline_config", "input")
    if status:
        qs = qs.filter(status=status)
    if pipeline:
        qs = qs.filter(pipeline_id=pipeline)
    total = qs.count()
    return [execution_summary(e) for e in qs.order_by("-created_at")[offset : offset + limit]], total


def _live_tail(execution_id: str, after_seq: int) -> list[wire.Event]:
    """Events the worker has published but not yet stored (empty when Redis is unreachable)."""
    try:
        return stream_events_after(execution_id, after_seq)
    except Exception:  # noqa: BLE001 - the snapshot still answers from the database alone
        return []


def stage_texts_stored(*, execution_id: str, stage_ids: set[str], upto_seq: int) -> dict[str, str]:
    """The text of these stages as their stored chunks up to ``upto_seq`` give it (the fold is the wire
    model's). ``upto_seq`` is the seq a caller's live tail starts after: the worker goes on storing while
    this reads, and a chunk taken from both would be shown twice (PostgreSQL's concurrent commits made
    that visible: a reload mid-run showed a chunk twice)."""
    folds = {stage_id: wire.TextFold() for stage_id in stage_ids}
    if folds:
        rows = ExecutionEvent.objects.filter(
            execution_id=execution_id, type="stage:output", seq__lte=upto_seq, payload__stageId__in=sorted(folds)
        ).order_by("seq")
        for payload in rows.values_list("payload", flat=True).iterator():
            folds[payload["stageId"]].add(payload["output"], payload["offset"])
    return {stage_id: fold.text() for stage_id, fold in folds.items()}


S = TypeVar("S", bound=wire.RunState)


@overload
def execution_run_state(*, execution: Execution, with_text: bool = True) -> wire.RunState: ...
@overload
def execution_run_state(*, execution: Execution, state_class: type[S], with_text: bool = True) -> S: ...
def execution_run_state(
    *, execution: Execution, state_class: type[wire.RunState] = wire.RunState, with_text: bool = True
) -> wire.RunState:
    """Everything known about an execution up to ``state.last_seq``, in the wire model: the stage rows,
    the running stages' stored events folded in, then the live tail the worker has not stored yet. A
    late joiner renders it, then follows the event stream from ``last_seq`` on, and sees every chunk
    exactly once.

    ``with_text=False``: the rows alone, without any stage's text (the page's stream holds none), and no
    ``last_seq``: its holder applies whatever follows its own cursor."""
    execution.refresh_from_db()
    stages = execution.stages.order_by("index")
    rows = list(stages if with_text else stages.defer("output", "data"))
    state = state_class(
        id=str(execution.id),
        status=execution.status,
        pipeline_id=execution.pipeline_id,
        pipeline_name=execution.pipeline_name,
        input=execution.input,
        created_ms=wire.ms_of(execution.created_at),
        started_ms=wire.ms_of(execution.started_at),
        ended_ms=wire.ms_of(execution.ended_at),
        error=execution.error,
        keep_text=with_text,
    )
    state.stages = [_stage_state(state, row) for row in rows]
    if not with_text:
        return state
    if execution.is_final:
        state.last_seq = execution.last_seq
        return state
    # A running stage's text is in the event log until it ends: its stored events, folded in.
    open_ids = {s.id for s in state.stages if not s.is_final}
    if open_ids:
        stored = ExecutionEvent.objects.filter(
            execution_id=execution.pk,
            type__in=("stage:output", "stage:retrying"),
            seq__lte=execution.last_seq,
            payload__stageId__in=sorted(open_ids),
        ).order_by("seq")
        for event in stored.values_list("payload", flat=True).iterator():
            wire.apply_event(state, event)
    state.last_seq = execution.last_seq
    for event in _live_tail(str(execution.id), execution.last_seq):
        # A stage the rows show ended (its row was written after last_seq was read) has its whole text
        # already: only the stages still open, and the run itself, take the tail.
        stage_id = wire.event_stage_id(event)
        if stage_id is None or stage_id in open_ids:
            wire.apply_event(state, event)
    return state


def _stage_state(state: wire.RunState, row: StageRun) -> wire.StageState:
    final = state.keep_text and row.status in wire.FINAL_STAGE_STATUSES
    return state.new_stage(
        id=row.stage_id,
        index=row.index,
        name=row.name,
        type=row.type,
        provider=row.provider,
        model=row.model,
        status=row.status,
        started_ms=wire.ms_of(row.started_at),
        ended_ms=wire.ms_of(row.ended_at),
        duration_ms=row.duration_ms,
        ttft_ms=row.time_to_first_token_ms,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost=row.cost,
        cost_source=row.cost_source,
        attempts=row.attempts,
        error=row.error,
        text=(wire.TextFold(row.output if final else "") if state.keep_text else None),
    )


def execution_snapshot(*, execution: Execution) -> dict[str, Any]:
    """The JSON snapshot (ARCHITECTURE.md): the execution's summary and its state in the wire model."""
    state = execution_run_state(execution=execution)
    snapshot = execution_summary(execution) | wire.run_snapshot(state)
    if state.is_final and snapshot["endedAt"] is None:
        snapshot["endedAt"] = wire.iso(state.ended_ms)  # the final event is in the live tail, not stored yet
    return snapshot


def stage_output_full(*, execution: Execution, stage_id: str) -> str | None:
    """A stage's whole text: stored at its end, or rebuilt from the log while it runs."""
    row = execution.stages.filter(stage_id=stage_id).first()
    if row is None:
        return None
    if row.status in wire.FINAL_STAGE_STATUSES or execution.is_final:
        return row.output
    stage = execution_run_state(execution=execution).stage(stage_id)
    return stage.text.text() if stage is not None and stage.text is not None else ""


def events_stored_after(*, execution_id: str, after_seq: int, limit: int = 1000) -> list[dict[str, Any]]:
    rows = ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=after_seq).order_by("seq")[:limit]
    return list(rows.values_list("payload", flat=True))


# --- the portal's pages ------------------------------------------------------------------------------

ACTIVE_STATUSES = sorted(wire.ACTIVE_EXECUTION_STATUSES)


def executions_active_count(*, user: User | AnonymousUser) -> int:
    """Queued and running executions this user may see (the navigation's badge): an indexed count."""
    return visible_executions(user).filter(status__in=ACTIVE_STATUSES).count()


def execution_history(
    *,
    user: User | AnonymousUser,
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
    stored log — the ``first_ms`` the reducer would give, in two indexed reads instead of a fold of the
    stage's text; None when nothing is stored yet. Read once per viewer, never per event."""
    events = ExecutionEvent.objects.filter(execution_id=execution_id, payload__stageId=stage_id)
    # An earlier attempt's text was voided by its retry: its first token does not count.
    retried = events.filter(type="stage:retrying").order_by("-seq").values_list("seq", flat=True).first() or 0
    texts = events.filter(type="stage:output", seq__gt=retried).exclude(payload__output="").order_by("seq")
    return texts.values_list("ts", flat=True).first()


def execution_reruns(*, user: User | AnonymousUser, execution: Execution) -> list[Execution]:
    """The re-runs of ``execution`` this user may see, oldest first (the page's "re-runs" list)."""
    qs = visible_executions(user).filter(parent_id=execution.pk).order_by("created_at")
    return list(qs.only("id", "status", "from_stage", "created_at"))
