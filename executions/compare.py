"""Compare: two to four runs side by side, stage by stage (ARCHITECTURE.md "Contracts added":
``GET /api/executions/compare?ids=a,b[,c,d]`` and the page ``/executions/compare/?ids=…``).

A selector: it reads each run's state in the wire model (``execution_run_state``: the record and the
live tail), aligns the stages by id in the order they first appear, and gives every later run's stage
its metrics' difference from the first run's and a word diff of its text against the first run's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Final

from django.contrib.auth.models import AnonymousUser, User

from executions.engine import wire
from executions.selectors import execution_get_for_user, execution_run_state

MIN_RUNS: Final = 2
MAX_RUNS: Final = 4
#: a diff looks at this much of each text (its start): SequenceMatcher is quadratic at worst
DIFF_MAX_CHARS: Final = 32 * 1024
#: what the JSON and the page carry of an output (its end, like the snapshot)
OUTPUT_MAX_CHARS: Final = wire.SNAPSHOT_OUTPUT_CHARS

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
# Words, runs of white space, and every other character alone (punctuation, symbols, emoji), so a
# change of one comma marks the comma, not the word it touches.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)

DiffOp = tuple[str, str]


@dataclass
class CompareRefused(Exception):
    """A compare that cannot be shown: 400 for a wrong ``ids`` parameter, 404 for a run the caller
    cannot see (unknown and another user's alike)."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def compare_ids_parse(raw: str | list[str]) -> list[str]:
    """``a,b[,c,d]`` (or the same ids repeated as ``ids=a&ids=b``, what a form of checkboxes sends) as
    a list of 2–4 distinct execution ids; raises :class:`CompareRefused` (400)."""
    parts = raw if isinstance(raw, list) else [raw]
    ids = [piece.strip() for part in parts for piece in part.split(",")]
    if not any(ids):
        raise CompareRefused(400, "bad_parameter", "ids is required: ids=<id>,<id>[,<id>,<id>]")
    bad = [i for i in ids if not _UUID.match(i)]
    if bad:
        raise CompareRefused(400, "bad_parameter", f"ids: {bad[0]!r} is not an execution id")
    normal = [i.replace("-", "").lower() for i in ids]
    if len(set(normal)) != len(normal):
        raise CompareRefused(400, "bad_parameter", "ids: each execution may appear once")
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        raise CompareRefused(400, "bad_parameter", f"ids: compare {MIN_RUNS} to {MAX_RUNS} executions, not {len(ids)}")
    return ids


def word_diff(old: str, new: str) -> list[DiffOp]:
    """``new`` against ``old``, word by word: ``[(op, text), …]`` with op equal, insert or delete;
    equal and insert pieces joined give ``new``, equal and delete pieces ``old``."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    ops: list[DiffOp] = []

    def put(op: str, text: str) -> None:
        if not text:
            return
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + text)
        else:
            ops.append((op, text))

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            put("equal", "".join(a[i1:i2]))
        else:
            put("delete", "".join(a[i1:i2]))
            put("insert", "".join(b[j1:j2]))
    return ops


@dataclass
class RunCell:
    """One run's stage in a compare row."""

    execution_id: str
    stage: wire.StageState
    text: str
    delta: dict[str, float | None] | None = None
    diff: list[DiffOp] | None = None
    #: the diff looked at the first DIFF_MAX_CHARS of each text only
    diff_truncated: bool = False

    @property
    def duration(self) -> float | None:
        stage = self.stage
        if stage.duration_ms is not None:
            return stage.duration_ms
        if stage.started_ms is not None and stage.ended_ms is not None:
            return float(stage.ended_ms - stage.started_ms)
        return None

    def metrics(self) -> dict[str, float | None]:
        stage = self.stage
        done = stage.status == "completed"
        return {
            "duration": self.duration,
            "ttft": stage.ttft_ms,
            "inputTokens": stage.input_tokens if done else None,
            "outputTokens": stage.output_tokens if done else None,
            "cost": stage.cost if done else None,
        }


@dataclass
class StageRow:
    id: str
    name: str
    #: one per run, in the runs' order; None where that run has no such stage
    cells: list[RunCell | None] = field(default_factory=list)


@dataclass
class Comparison:
    runs: list[wire.RunState]
    stages: list[StageRow]
    #: the model of each run's stages, for the column heads ("" when they differ)
    models: list[str]


def _delta(first: float | None, other: float | None) -> float | None:
    if first is None or other is None:
        return None
    return round(other - first, 9)


def _cell(execution_id: str, stage: wire.StageState, first: RunCell | None) -> RunCell:
    text = stage.text.text() if stage.text is not None else ""
    cell = RunCell(execution_id=execution_id, stage=stage, text=text)
    if first is not None:
        mine, theirs = cell.metrics(), first.metrics()
        cell.delta = {key: _delta(theirs[key], mine[key]) for key in ("duration", "ttft", "outputTokens", "cost")}
        cell.diff = word_diff(first.text[:DIFF_MAX_CHARS], text[:DIFF_MAX_CHARS])
        cell.diff_truncated = max(len(first.text), len(text)) > DIFF_MAX_CHARS
    return cell


def _model_of(state: wire.RunState) -> str:
    models = {f"{s.provider} {s.model}".strip() for s in state.stages}
    return models.pop() if len(models) == 1 else ""


def compare_executions(*, user: User | AnonymousUser, ids: list[str], stage_ids: set[str] | None = None) -> Comparison:
    """The runs side by side (``stage_ids``: only these rows); raises :class:`CompareRefused` (404)
    when any id is unknown or another user's run."""
    runs: list[wire.RunState] = []
    for execution_id in ids:
        execution = execution_get_for_user(user=user, execution_id=execution_id)
        if execution is None:
            raise CompareRefused(404, "not_found", f"no such execution: {execution_id}")
        runs.append(execution_run_state(execution=execution))
    order: list[tuple[str, str]] = []
    for run in runs:
        for stage in run.stages:
            if all(stage.id != known for known, _ in order):
                order.append((stage.id, stage.name or stage.id))
    rows = []
    for stage_id, name in order:
        if stage_ids is not None and stage_id not in stage_ids:
            continue
        row = StageRow(id=stage_id, name=name)
        first: RunCell | None = None
        for index, run in enumerate(runs):
            found = run.stage(stage_id)
            if found is None:
                row.cells.append(None)
                continue
            cell = _cell(run.id, found, first if index > 0 else None)
            if index == 0:
                first = cell
            row.cells.append(cell)
        rows.append(row)
    return Comparison(runs=runs, stages=rows, models=[_model_of(r) for r in runs])


def compare_json(comparison: Comparison) -> dict[str, Any]:
    """The API's answer: ``{runs: […], stages: [{id, name, runs: [… | null]}]}``."""
    return {
        "runs": [
            {
                "id": run.id,
                "pipelineId": run.pipeline_id,
                "pipelineName": run.pipeline_name,
                "status": run.status,
                "lastSeq": run.last_seq,
                "model": model or None,
                "url": f"/executions/{run.id}/",
                "eventsUrl": f"/api/executions/{run.id}/events",
            }
            for run, model in zip(comparison.runs, comparison.models, strict=True)
        ],
        "stages": [
            {"id": row.id, "name": row.name, "runs": [_cell_json(cell) for cell in row.cells]}
            for row in comparison.stages
        ],
    }


def _cell_json(cell: RunCell | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    stage, text = cell.stage, cell.text
    return {
        "status": stage.status,
        "provider": stage.provider,
        "model": stage.model,
        "output": text[-OUTPUT_MAX_CHARS:] if len(text) > OUTPUT_MAX_CHARS else text,
        "outputLength": len(text),
        "outputTruncated": len(text) > OUTPUT_MAX_CHARS,
        **cell.metrics(),
        "delta": cell.delta,
        "diff": [list(op) for op in cell.diff] if cell.diff is not None else None,
        "diffTruncated": cell.diff_truncated,
    }
