"""What the execution page shows: the wire model's state (executions/engine/wire.py) with the labels its
templates print. The page's first render builds it from the record (``selectors.execution_run_state``),
and the page's stream keeps it current with the wire model's reducer. Both paths render the same
fragment templates (STYLE.md rule 6), so a stage looks the same whether the page was loaded or the
stage changed live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executions.engine import wire
from executions.engine.formatting import format_cost, format_duration
from executions.reruns import REUSABLE

EXECUTION_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "success": "Succeeded",
    "early_exit": "Ended early",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
}


def format_count(n: int) -> str:
    return f"{n:,}"


@dataclass
class StageState(wire.StageState):
    @property
    def attempt(self) -> int:
        """The attempt under way, as the retry note counts it (1 before the stage has started)."""
        return max(self.attempts, 1)

    # --- labels for the templates ---------------------------------------------------------------

    @property
    def model_label(self) -> str:
        return " · ".join(part for part in (self.type, self.model, self.provider) if part)

    @property
    def duration_label(self) -> str:
        if self.duration_ms is not None:
            return format_duration(self.duration_ms)
        if self.started_ms is not None and self.ended_ms is not None:
            return format_duration(self.ended_ms - self.started_ms)
        return "—"

    @property
    def ttft_label(self) -> str:
        if self.ttft_ms is not None:
            return format_duration(self.ttft_ms)
        if self.first_ms is not None and self.started_ms is not None:
            return format_duration(max(0, self.first_ms - self.started_ms))
        return "—"

    @property
    def tokens_label(self) -> str:
        if self.status != "completed" or not (self.input_tokens or self.output_tokens):
            return "—"
        return format_count(self.output_tokens)

    @property
    def tokens_title(self) -> str:
        return f"{self.input_tokens:,} in / {self.output_tokens:,} out"

    @property
    def speed_label(self) -> str:
        if self.status != "completed" or not self.output_tokens or self.duration_ms is None:
            return "—"
        generating_ms = self.duration_ms - (self.ttft_ms or 0)
        return f"{self.output_tokens / generating_ms * 1000:.0f} tok/s" if generating_ms > 0 else "—"

    @property
    def cost_label(self) -> str:
        if self.status != "completed":
            return "—"
        return format_cost(self.cost, self.cost_source or "unknown")


@dataclass
class ExecutionState(wire.RunState):
    @property
    def status_label(self) -> str:
        return EXECUTION_LABELS.get(self.status, self.status)

    @property
    def stages_done(self) -> int:
        return sum(1 for s in self.stages if s.status in wire.FINAL_STAGE_STATUSES)

    @property
    def elapsed_label(self) -> str:
        if self.started_ms is None:
            return "—"
        if self.ended_ms is None:
            return "…"  # ticks in the browser while the run goes on
        return format_duration(self.ended_ms - self.started_ms)

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens for s in self.stages)

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens for s in self.stages)

    @property
    def tokens_label(self) -> str:
        return format_count(self.output_tokens) if self.output_tokens or self.input_tokens else "—"

    @property
    def cost_label(self) -> str:
        done = [s for s in self.stages if s.status == "completed"]
        if not done:
            return "—"
        if all(s.cost_source == "free" for s in done):
            return "free"
        if any(s.cost_source in ("", "unknown") for s in done):
            known = sum(s.cost for s in done)
            return f"≥ {format_cost(known, 'tool')}" if known else "unknown"
        return format_cost(sum(s.cost for s in done), "tool")

    # --- re-runs (executions/reruns.py decides; these only say what the page offers) ---------------

    @property
    def rerun_from_ids(self) -> frozenset[str]:
        """The stages an ended run may be re-run from: those whose earlier stages are all reusable."""
        if not self.is_final:
            return frozenset()
        ids = set()
        for stage in self.stages:
            ids.add(stage.id)
            if stage.status not in REUSABLE:
                break
        return frozenset(ids)

    @property
    def retry_stage(self) -> StageState | None:
        """A failed, cancelled or interrupted run's first unfinished stage: where a retry starts."""
        if self.status not in ("failed", "cancelled", "interrupted"):
            return None
        return next((s for s in self.stages if s.status not in REUSABLE and isinstance(s, StageState)), None)

    def stage(self, stage_id: str | None) -> StageState | None:
        stage = super().stage(stage_id)
        return stage if isinstance(stage, StageState) else None

    def new_stage(self, **fields: Any) -> StageState:
        return StageState(**fields)

    def apply(self, event: wire.Event) -> StageState | None:
        """One wire event, through the wire model's reducer; the stage it changed, if any."""
        stage = wire.apply_event(self, event)
        return stage if isinstance(stage, StageState) else None
