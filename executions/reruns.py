"""Re-runs: a new execution from an earlier one's stored pipeline, with edits, reusing the stages before
``fromStage`` (no model call: their text and data are the parent's, byte for byte).

The service validates the edits exactly as a pipeline file is validated and refuses, with the path of
what is wrong, before anything is created; the worker (or ``runpipeline --rerun``) asks
:func:`execution_reuse` what to replay.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from executions.engine.types import ReusedStage
from executions.engine.validate import format_issue, validate_pipeline
from executions.models import Execution, StageRun
from executions.services import execution_create, execution_queue_on_commit

#: what a stage edit may change
EDITABLE = ("prompt", "system", "model")
#: a parent's stages that can be reused as they are
REUSABLE = ("completed", "skipped")


@dataclass
class RerunRefused(Exception):
    """Why a re-run cannot be made: an HTTP status (400 a wrong request, 409 a parent that does not
    allow it), a code and a message naming what is wrong and where."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class RerunPlan:
    pipeline: dict[str, Any]
    input: str
    #: the first stage that runs again ("" when all do)
    from_stage: str


def rerun_plan(
    *,
    parent: Execution,
    from_stage: str | None = None,
    input: str | None = None,
    stages: Mapping[str, Mapping[str, Any]] | None = None,
) -> RerunPlan:
    """The pipeline a re-run runs (the parent's stored one with the edits applied, validated) and what it
    reuses; raises :class:`RerunRefused`."""
    config = copy.deepcopy(parent.pipeline_config)
    ids = [s["id"] for s in config["stages"]]
    known = ", ".join(ids)
    if from_stage is not None and from_stage not in ids:
        raise RerunRefused(400, "unknown_stage", f"fromStage: no stage {from_stage!r} in this run; its stages: {known}")
    unknown = [stage_id for stage_id in (stages or {}) if stage_id not in ids]
    if unknown:
        raise RerunRefused(
            400, "unknown_stage", f"stages: no stage {', '.join(map(repr, unknown))}; its stages: {known}"
        )
    for stage_id, edit in (stages or {}).items():
        stage = config["stages"][ids.index(stage_id)]
        for key, value in edit.items():
            if key == "model" and isinstance(value, Mapping) and isinstance(stage.get("model"), Mapping):
                stage["model"] = {**stage["model"], **value}
            else:
                stage[key] = value
    result = validate_pipeline(config)
    if not result.ok or result.config is None:
        problems = "; ".join(_by_stage_id(format_issue(issue), ids) for issue in result.issues)
        raise RerunRefused(400, "invalid_pipeline", problems)
    new_input = parent.input if input is None else input
    if new_input != parent.input:
        from_stage = ids[0]  # a new input changes what every stage sees: nothing can be reused
    if from_stage is not None:
        rows = dict(StageRun.objects.filter(execution=parent).values_list("stage_id", "status"))
        for stage_id in ids[: ids.index(from_stage)]:
            if rows.get(stage_id) not in REUSABLE:
                raise RerunRefused(
                    409,
                    "stage_not_reusable",
                    f"stage {stage_id} was {rows.get(stage_id, 'not run')} in {parent.pk}: only completed or "
                    f"skipped stages are reused; re-run from {stage_id} or an earlier stage",
                )
    return RerunPlan(pipeline=result.config, input=new_input, from_stage=from_stage or "")


def _by_stage_id(problem: str, ids: list[str]) -> str:
    """``stages[2].prompt: …`` as ``stages.<id>.prompt: …``: a re-run's edits are keyed by stage id."""
    return re.sub(r"^stages\[(\d+)\]", lambda m: f"stages.{ids[int(m.group(1))]}", problem)


def execution_rerun(
    *,
    parent: Execution,
    user: User | AnonymousUser | None,
    from_stage: str | None = None,
    input: str | None = None,
    stages: Mapping[str, Mapping[str, Any]] | None = None,
    enqueue: bool = True,
) -> Execution:
    """A new execution of the caller's from ``parent`` (see :func:`rerun_plan`), queued for a worker
    once committed (``enqueue=False``: the command line runs it itself)."""
    plan = rerun_plan(parent=parent, from_stage=from_stage, input=input, stages=stages)
    with transaction.atomic():
        execution = execution_create(pipeline=plan.pipeline, input=plan.input, overrides=parent.overrides, user=user)
        execution.parent = parent
        execution.from_stage = plan.from_stage
        execution.save(update_fields=["parent", "from_stage"])
        if enqueue:
            execution_queue_on_commit(execution)
    return execution


def execution_reuse(*, execution: Execution) -> dict[str, ReusedStage]:
    """What a re-run replays from its parent: every stage before ``from_stage``, as the parent stored it."""
    if execution.parent_id is None or not execution.from_stage:
        return {}
    ids = [s["id"] for s in execution.pipeline_config["stages"]]
    if execution.from_stage not in ids:
        return {}
    before = ids[: ids.index(execution.from_stage)]
    rows = StageRun.objects.filter(execution_id=execution.parent_id, stage_id__in=before)
    return {
        row.stage_id: ReusedStage(
            source=str(execution.parent_id),
            status=row.status,
            output=row.output,
            data=row.data,
            reason=row.error,
            provider=row.provider,
            model=row.model,
            finish_reason=row.finish_reason or "stop",
        )
        for row in rows
        if row.status in REUSABLE
    }
