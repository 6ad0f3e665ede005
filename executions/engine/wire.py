"""The one wire model: event types, statuses, the run's state and the one reducer over events.

ARCHITECTURE.md "Wire events" fixes the events; everything that reads them — the snapshot and the full
text (selectors), the recorder and the reaper (worker), the page and its stream (portal), the terminal —
folds them with :func:`apply_event` into a :class:`RunState`, and rebuilds a stage's text with
:class:`TextFold`. Pure Python: no Django, Celery or Redis, so the same code runs in every process.

The guarantee everything relies on (tests/properties/test_wire_snapshot.py): the state after events
1..k, taken as a snapshot and restored, plus events k+1..n, equals the state after all n.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypedDict

# --- statuses ---------------------------------------------------------------------------------------

EXECUTION_STATUSES: Final = ("queued", "running", "success", "early_exit", "failed", "cancelled", "interrupted")
ACTIVE_EXECUTION_STATUSES: Final = frozenset({"queued", "running"})
FINAL_EXECUTION_STATUSES: Final = frozenset(EXECUTION_STATUSES) - ACTIVE_EXECUTION_STATUSES

STAGE_STATUSES: Final = ("pending", "running", "completed", "skipped", "failed", "cancelled")
FINAL_STAGE_STATUSES: Final = frozenset({"completed", "skipped", "failed", "cancelled"})

# --- event types ------------------------------------------------------------------------------------

#: an execution's events end with exactly one of these; nothing follows it
FINAL_EVENT_TYPES: Final = frozenset(
    {"execution:completed", "execution:cancelled", "execution:failed", "execution:interrupted"}
)
#: the events about one stage that change its panel's head (text chunks aside)
STAGE_EVENT_TYPES: Final = frozenset(
    {"stage:started", "stage:retrying", "stage:completed", "stage:failed", "stage:skipped"}
)

Event = dict[str, Any]
"""One wire event: ``type``, ``executionId``, ``seq``, ``ts`` and the fields of its type."""


def now_ms() -> int:
    return int(time.time() * 1000)


def make_event(type_: str, *, execution_id: str, seq: int, ts: int | None = None, **fields: Any) -> Event:
    """A stamped wire event. The executor numbers a run's events; the services number the ones written
    outside a run (a queued run cancelled, a dead worker's run interrupted) after the last stored one."""
    return {"type": type_, "executionId": execution_id, "seq": seq, "ts": now_ms() if ts is None else ts, **fields}


def final_event_status(event: Event) -> str:
    """The execution status a final event sets."""
    kind = event["type"]
    if kind == "execution:completed":
        return str(event["result"]["status"])
    return kind.removeprefix("execution:")


def final_event_error(event: Event) -> str:
    """The human reason a final event carries ("" for a plain success)."""
    if event["type"] == "execution:completed":
        return str(event["result"].get("error") or "")
    return str(event.get("reason") or event.get("error") or "")


def event_stage_id(event: Event) -> str | None:
    """The stage an event is about, whichever field carries it."""
    stage_id = event.get("stageId")
    if stage_id is None and isinstance(event.get("stage"), Mapping):
        stage_id = event["stage"].get("id")
    return stage_id


# --- a stage's text -----------------------------------------------------------------------------------


class TextFold:
    """A stage's text, rebuilt from its ``stage:output`` chunks in seq order. A chunk at offset 0 starts
    an attempt afresh (a retry voided what came before; ``stage:retrying`` says so too). The only place
    the fold is written: every reader of chunks calls it."""

    __slots__ = ("_parts", "length")

    def __init__(self, text: str = "") -> None:
        self._parts: list[str] = [text] if text else []
        #: in Unicode code points, as the events' offsets count
        self.length = len(text)

    def add(self, output: str, offset: int) -> None:
        # Per-chunk hot path in the worker: an append, no join.
        if offset == 0:
            self._parts.clear()
            self.length = 0
        if output:
            self._parts.append(output)
            self.length += len(output)

    def reset(self) -> None:
        self._parts.clear()
        self.length = 0

    def text(self) -> str:
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""


def fold_text(chunks: Iterable[Mapping[str, Any]]) -> str:
    """The text of one stage's ``stage:output`` payloads (or anything with ``output`` and ``offset``)."""
    fold = TextFold()
    for chunk in chunks:
        fold.add(chunk["output"], chunk["offset"])
    return fold.text()


# --- the run's state ------------------------------------------------------------------------------------


@dataclass
class StageState:
    """One stage as the events describe it. Times are ms since the epoch, as the events' ``ts``."""

    id: str
    index: int = 0
    name: str = ""
    type: str = ""
    provider: str = ""
    model: str = ""
    status: str = "pending"
    started_ms: int | None = None
    ended_ms: int | None = None
    #: when the current attempt's first text arrived
    first_ms: int | None = None
    duration_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_source: str = ""
    #: the attempt under way or, once ended, the attempts it took (0 before it starts)
    attempts: int = 0
    #: a failed stage's error, or why it was skipped or cancelled
    error: str = ""
    #: what went wrong with the previous attempt while a retry is under way
    retry_error: str = ""
    #: a completed stage's ``stage:completed.result`` (cost, usage, reusedFrom …), as sent
    result: dict[str, Any] | None = None
    #: its text; None where the holder keeps no text (the web process holds no stage output)
    text: TextFold | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STAGE_STATUSES

    @property
    def output_length(self) -> int:
        return self.text.length if self.text is not None else 0


@dataclass
class RunState:
    """An execution as its events describe it: what a late joiner is given, then keeps current."""

    id: str
    status: str = "queued"
    pipeline_id: str = ""
    pipeline_name: str = ""
    input: str = ""
    stages: list[StageState] = field(default_factory=list)
    #: the seq of the last event applied (0: none)
    last_seq: int = 0
    created_ms: int | None = None
    started_ms: int | None = None
    ended_ms: int | None = None
    error: str = ""
    #: whether stages keep their text (a worker, the snapshot) or not (the page's stream)
    keep_text: bool = True

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_EXECUTION_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_EXECUTION_STATUSES

    def stage(self, stage_id: str | None) -> StageState | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def new_stage(self, **fields: Any) -> StageState:
        """A stage the events announce; a subclass's stages may carry more (the portal's labels)."""
        return StageState(**fields)


def apply_event(state: RunState, event: Event) -> StageState | None:
    """Applies one wire event to ``state`` (events at or before ``state.last_seq`` change nothing);
    returns the stage it changed, if any. The one reducer: no I/O, cheap on the per-chunk path."""
    seq = event["seq"]
    if seq <= state.last_seq:
        return None
    state.last_seq = seq
    kind = event["type"]
    if kind == "stage:output":
        stage = state.stage(event["stageId"])
        if stage is None:
            return None
        if stage.status == "pending":
            stage.status = "running"  # its stage:started came before this holder's cursor
        if event["offset"] == 0 and event["output"] and stage.first_ms is None:
            stage.first_ms = event["ts"]
        if stage.text is not None:
            stage.text.add(event["output"], event["offset"])
        return stage
    if kind.startswith("execution:"):
        _apply_execution_event(state, event)
        return None
    stage = state.stage(event_stage_id(event))
    if stage is None:
        return None
    ts = event["ts"]
    if kind == "stage:started":
        wire = event["stage"]
        stage.name, stage.type = wire.get("name") or stage.name, wire.get("type", stage.type)
        stage.provider, stage.model = wire.get("provider") or stage.provider, wire.get("model") or stage.model
        stage.status, stage.started_ms, stage.first_ms, stage.attempts = "running", ts, None, 1
        if stage.text is not None:
            stage.text.reset()
    elif kind == "stage:retrying":
        stage.attempts, stage.retry_error, stage.first_ms = event["attempt"], event["error"], None
        if stage.text is not None:
            stage.text.reset()
    elif kind == "stage:completed":
        result = event["result"]
        usage = result.get("usage") or {}
        stage.status, stage.ended_ms, stage.retry_error, stage.result = "completed", ts, "", result
        stage.duration_ms, stage.ttft_ms = result.get("duration"), result.get("timeToFirstToken")
        stage.input_tokens, stage.output_tokens = usage.get("inputTokens", 0), usage.get("outputTokens", 0)
        stage.cost, stage.cost_source = result.get("cost", 0.0), result.get("costSource", "")
        stage.provider, stage.model = result.get("provider") or stage.provider, result.get("model") or stage.model
        stage.attempts = result.get("attempts") or stage.attempts
    elif kind == "stage:failed":
        stage.status, stage.ended_ms, stage.error, stage.retry_error = "failed", ts, event["error"], ""
    elif kind == "stage:skipped":
        stage.status, stage.ended_ms, stage.error = "skipped", ts, event["reason"]
    return stage


def _apply_execution_event(state: RunState, event: Event) -> None:
    kind = event["type"]
    if kind == "execution:started":
        state.status = "running"
        state.started_ms = state.started_ms or event["ts"]
        state.pipeline_id = event.get("pipelineId", state.pipeline_id)
        state.pipeline_name = event.get("pipelineName", state.pipeline_name)
        state.input = event.get("input", state.input)
        known = {s.id for s in state.stages}
        for index, wire in enumerate(event.get("stages", [])):
            if wire["id"] not in known:
                state.stages.append(
                    state.new_stage(
                        id=wire["id"],
                        index=index,
                        name=wire.get("name") or wire["id"],
                        type=wire.get("type", ""),
                        provider=wire.get("provider", ""),
                        model=wire.get("model", ""),
                        text=TextFold() if state.keep_text else None,
                    )
                )
    elif kind in FINAL_EVENT_TYPES:
        state.status, state.ended_ms, state.error = final_event_status(event), event["ts"], final_event_error(event)
        for stage in state.stages:
            settle_stage(stage, state.status, state.error, event["ts"])


def settle_stage(stage: StageState, execution_status: str, reason: str, ended_ms: int | None) -> None:
    """What an ended run leaves of a stage that had not ended: no stage of an ended run stays pending
    or running. One that was streaming keeps its text, ends when the run did and says why it stopped."""
    if stage.is_final:
        return
    if stage.status == "running":
        stage.status, stage.retry_error, stage.ended_ms = "cancelled", "", ended_ms
        stage.error = reason or execution_status
    elif execution_status in ("cancelled", "interrupted"):
        stage.status = "cancelled"
        stage.error = f"not run: the execution was {execution_status}"
    else:
        stage.status, stage.error = "skipped", f"not run: the execution ended ({execution_status})"


# --- snapshots -----------------------------------------------------------------------------------------

#: a snapshot carries at most this much of a stage's output (its end); the full text has its own route
SNAPSHOT_OUTPUT_CHARS: Final = 100 * 1024


class Usage(TypedDict):
    inputTokens: int
    outputTokens: int


class StageSnapshot(TypedDict):
    id: str
    name: str
    type: str
    provider: str
    model: str
    status: str
    startedAt: str | None
    endedAt: str | None
    cost: float
    costSource: str | None
    usage: Usage
    timeToFirstToken: float | None
    attempts: int
    error: str | None
    output: str
    outputLength: int
    outputTruncated: bool


def iso(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms is not None else None


def ms_of(value: datetime | None) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def stage_snapshot(stage: StageState) -> StageSnapshot:
    output = stage.text.text() if stage.text is not None else ""
    length = len(output)
    return {
        "id": stage.id,
        "name": stage.name,
        "type": stage.type,
        "provider": stage.provider,
        "model": stage.model,
        "status": stage.status,
        "startedAt": iso(stage.started_ms),
        "endedAt": iso(stage.ended_ms),
        "cost": stage.cost,
        "costSource": stage.cost_source or None,
        "usage": {"inputTokens": stage.input_tokens, "outputTokens": stage.output_tokens},
        "timeToFirstToken": stage.ttft_ms,
        "attempts": stage.attempts,
        "error": stage.error or None,
        "output": output[-SNAPSHOT_OUTPUT_CHARS:] if length > SNAPSHOT_OUTPUT_CHARS else output,
        "outputLength": length,
        "outputTruncated": length > SNAPSHOT_OUTPUT_CHARS,
    }


def stage_from_snapshot(index: int, data: Mapping[str, Any]) -> StageState:
    """The inverse of :func:`stage_snapshot` for an output that was not truncated."""
    usage = data.get("usage") or {}
    started, ended = _ms_of_iso(data.get("startedAt")), _ms_of_iso(data.get("endedAt"))
    return StageState(
        id=data["id"],
        index=index,
        name=data.get("name") or data["id"],
        type=data.get("type") or "",
        provider=data.get("provider") or "",
        model=data.get("model") or "",
        status=data["status"],
        started_ms=started,
        ended_ms=ended,
        ttft_ms=data.get("timeToFirstToken"),
        input_tokens=usage.get("inputTokens", 0),
        output_tokens=usage.get("outputTokens", 0),
        cost=data.get("cost") or 0.0,
        cost_source=data.get("costSource") or "",
        attempts=data.get("attempts") or 0,
        error=data.get("error") or "",
        text=TextFold(data.get("output") or ""),
    )


def _ms_of_iso(value: str | None) -> int | None:
    return ms_of(datetime.fromisoformat(value)) if value else None


def run_snapshot(state: RunState) -> dict[str, Any]:
    """The wire-model part of the JSON snapshot; the API adds the record's own fields (who, when)."""
    return {
        "id": state.id,
        "pipelineId": state.pipeline_id,
        "pipelineName": state.pipeline_name,
        "status": state.status,
        "input": state.input,
        "error": state.error or None,
        "lastSeq": state.last_seq,
        "stages": [stage_snapshot(s) for s in state.stages],
    }


def run_from_snapshot(snapshot: Mapping[str, Any]) -> RunState:
    """What a late joiner holds after reading a snapshot: the state it then keeps current with the
    events after ``lastSeq`` (stage outputs past the snapshot's window come from the full-text route)."""
    return RunState(
        id=snapshot["id"],
        status=snapshot["status"],
        pipeline_id=snapshot.get("pipelineId", ""),
        pipeline_name=snapshot.get("pipelineName", ""),
        input=snapshot.get("input", ""),
        error=snapshot.get("error") or "",
        last_seq=snapshot["lastSeq"],
        stages=[stage_from_snapshot(i, s) for i, s in enumerate(snapshot["stages"])],
    )
