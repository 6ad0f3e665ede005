"""A re-run's reused stage, as every viewer knows a stage: ``stage:started``, its text in contract-sized
chunks (at most 4096 bytes of UTF-8, never a split character), ``stage:completed`` with ``reusedFrom``
and no cost. No model is called: the text and the data are the earlier run's, byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from executions.engine.chunker import split_utf8
from executions.engine.types import ReusedStage, StageOutcome, StageRef, StageResult, Usage


def replay_stage(
    emit: Callable[..., None], ref: StageRef, reused: ReusedStage, *, index: int, total: int
) -> StageOutcome:
    ref = StageRef(ref.id, ref.name, ref.type, reused.provider or ref.provider, reused.model or ref.model)
    emit("stage:started", stage=ref.to_wire(), index=index, total=total)
    pieces = split_utf8(reused.output) if reused.output else [""]
    offset = 0
    for i, piece in enumerate(pieces):
        emit("stage:output", stageId=ref.id, output=piece, offset=offset, isFinal=i == len(pieces) - 1)
        offset += len(piece)
    result = StageResult(
        cost=0.0,
        cost_source="free",
        duration_ms=0.0,
        usage=Usage(),
        time_to_first_token_ms=None,
        attempts=0,
        finish_reason=reused.finish_reason,
        provider=ref.provider,
        model=ref.model,
    )
    completed: dict[str, Any] = {"stage": ref.to_wire(), "result": {**result.to_wire(), "reusedFrom": reused.source}}
    if reused.data is not None:
        completed["data"] = reused.data
    emit("stage:completed", **completed)
    return StageOutcome(status="completed", output=reused.output, data=reused.data, result=result)
