"""The run's totals, as ``execution:completed`` carries them (v1's ExecutionSummary, field for field)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.engine.types import StageOutcome


def summarize(
    stages: Mapping[str, StageOutcome], total_duration_ms: float, early_exit_stage_id: str | None
) -> dict[str, Any]:
    completed = skipped = failed = 0
    total_cost = 0.0
    input_tokens = output_tokens = 0
    final_stage_id: str | None = None
    for stage_id, stage in stages.items():
        if stage.status == "completed" and stage.result is not None:
            completed += 1
            total_cost += stage.result.cost
            input_tokens += stage.result.usage.input_tokens
            output_tokens += stage.result.usage.output_tokens
            # The last completed stage's output is the pipeline's answer.
            final_stage_id = stage_id
        elif stage.status == "skipped":
            skipped += 1
        elif stage.status == "failed":
            failed += 1
    return {
        "stagesCompleted": completed,
        "stagesSkipped": skipped,
        "stagesFailed": failed,
        "totalCost": total_cost,
        "totalDuration": round(total_duration_ms, 1),
        "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens},
        "finalStageId": final_stage_id,
        "earlyExitStageId": early_exit_stage_id,
    }
