"""What the execution page shows, as plain data: built from a snapshot for the first render, then kept
current by applying wire events in the page's stream. Both paths render the same fragment templates
(STYLE.md rule 6), so a stage looks the same whether the page was loaded or the stage changed live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from executions.engine.formatting import format_cost, format_duration

if TYPE_CHECKING:
    from executions.models import Execution

ACTIVE_EXECUTION = ("queued", "running")
FINAL_STAGE = ("completed", "skipped", "failed", "cancelled")

EXECUTION_LABELS = {
    "queued": "Queued",
    "running": "Running",
    "success": "Succeeded",
    "early_exit": "Ended early",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "interrupted": "Interrupted",
}


def epoch_ms(value: str | datetime | None) -> int | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return int(moment.timestamp() * 1000)


def format_count(n: int) -> str:
    return f"{n:,}"


@dataclass
class StageState:
    id: str
    index: int
    name: str
    type: str = ""
    provider: str = ""
    model: str = ""
    status: str = "pending"
    started_ms: int | None = None
    ended_ms: int | None = None
    #: when the current attempt's first text arrived (ms since the epoch)
    first_ms: int | None = None
    duration_ms: float | None = None
    ttft_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cost_source: str = ""
    #: a failed stage's error, or why it was skipped or cancelled
    error: str = ""
    #: the retry under way: its number and what went wrong with the previous attempt
    attempt: int = 1
    retry_error: str = ""

    # --- labels for the templates ---------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self.status == "running"

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

    # --- live updates ---------------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> None:
        """One wire event about this stage (the page stream's reducer; no I/O)."""
        kind = event["type"]
        if kind == "stage:started":
            wire = event["stage"]
            self.name, self.type = wire.get("name", self.name), wire.get("type", self.type)
            self.provider, self.model = wire.get("provider", self.provider), wire.get("model", self.model)
            self.status, self.started_ms, self.first_ms = "running", event["ts"], None
        elif kind == "stage:output":
            if self.status == "pending":
                self.status = "running"  # its stage:started came before this viewer's cursor
            if event["offset"] == 0 and event["output"] and self.first_ms is None:
                self.first_ms = event["ts"]
        elif kind == "stage:retrying":
            self.attempt, self.retry_error, self.first_ms = event["attempt"], event["error"], None
        elif kind == "stage:completed":
            result = event["result"]
            usage = result.get("usage") or {}
            self.status, self.ended_ms, self.retry_error = "completed", event["ts"], ""
            self.duration_ms, self.ttft_ms = result.get("duration"), result.get("timeToFirstToken")
            self.input_tokens, self.output_tokens = usage.get("inputTokens", 0), usage.get("outputTokens", 0)
            self.cost, self.cost_source = result.get("cost", 0.0), result.get("costSource", "")
            self.provider, self.model = result.get("provider") or self.provider, result.get("model") or self.model
        elif kind == "stage:failed":
            self.status, self.ended_ms, self.error, self.retry_error = "failed", event["ts"], event["error"], ""
        elif kind == "stage:skipped":
            self.status, self.ended_ms, self.error = "skipped", event["ts"], event["reason"]


@dataclass
class ExecutionState:
    id: str
    pipeline_id: str
    pipeline_name: str
    status: str
    created_ms: int | None = None
    started_ms: int | None = None
    ended_ms: int | None = None
    error: str = ""
    stages: list[StageState] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_EXECUTION

    @property
    def status_label(self) -> str:
        return EXECUTION_LABELS.get(self.status, self.status)

    @property
    def stages_done(self) -> int:
        return sum(1 for s in self.stages if s.status in FINAL_STAGE)

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

    def stage(self, stage_id: str | None) -> StageState | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def apply(self, event: dict[str, Any]) -> StageState | None:
        """Applies one wire event; returns the stage it changed, if any."""
        kind = event["type"]
        if kind == "execution:started":
            self.status = "running"
            self.started_ms = self.started_ms or event["ts"]
            return None
        if kind == "execution:completed":
            self.status, self.ended_ms = event["result"]["status"], event["ts"]
            return None
        if kind in ("execution:cancelled", "execution:failed", "execution:interrupted"):
            self.status, self.ended_ms = kind.split(":", 1)[1], event["ts"]
            self.error = event.get("reason") or event.get("error") or ""
            return None
        stage = self.stage(event.get("stageId") or (event.get("stage") or {}).get("id"))
        if stage is not None:
            stage.apply(event)
        return stage


def stage_from_snapshot(index: int, data: dict[str, Any], first_ms: int | None = None) -> StageState:
    usage = data.get("usage") or {}
    status = data["status"]
    return StageState(
        id=data["id"],
        index=index,
        name=data.get("name") or data["id"],
        type=data.get("type") or "",
        provider=data.get("provider") or "",
        model=data.get("model") or "",
        status=status,
        started_ms=epoch_ms(data.get("startedAt")),
        ended_ms=epoch_ms(data.get("endedAt")),
        first_ms=first_ms,
        ttft_ms=data.get("timeToFirstToken"),
        duration_ms=(
            epoch_ms(data["endedAt"]) - epoch_ms(data["startedAt"])  # type: ignore[operator]
            if data.get("endedAt") and data.get("startedAt")
            else None
        ),
        input_tokens=usage.get("inputTokens", 0),
        output_tokens=usage.get("outputTokens", 0),
        cost=data.get("cost") or 0.0,
        cost_source=data.get("costSource") or "",
        error=data.get("error") or "",
        attempt=data.get("attempts") or 1,
    )


def execution_from_snapshot(snapshot: dict[str, Any], first_ms: dict[str, int | None]) -> ExecutionState:
    return ExecutionState(
        id=snapshot["id"],
        pipeline_id=snapshot["pipelineId"],
        pipeline_name=snapshot["pipelineName"],
        status=snapshot["status"],
        created_ms=epoch_ms(snapshot.get("createdAt")),
        started_ms=epoch_ms(snapshot.get("startedAt")),
        ended_ms=epoch_ms(snapshot.get("endedAt")),
        error=snapshot.get("error") or "",
        stages=[stage_from_snapshot(i, s, first_ms.get(s["id"])) for i, s in enumerate(snapshot["stages"])],
    )


def execution_state_from_db(execution: Execution) -> ExecutionState:
    """The state as the database has it (the stage rows, without their outputs)."""
    state = ExecutionState(
        id=str(execution.id),
        pipeline_id=execution.pipeline_id,
        pipeline_name=execution.pipeline_name,
        status=execution.status,
        created_ms=epoch_ms(execution.created_at),
        started_ms=epoch_ms(execution.started_at),
        ended_ms=epoch_ms(execution.ended_at),
        error=execution.error,
    )
    for stage in execution.stages.order_by("index").defer("output", "data"):
        state.stages.append(
            StageState(
                id=stage.stage_id,
                index=stage.index,
                name=stage.name,
                type=stage.type,
                provider=stage.provider,
                model=stage.model,
                status=stage.status,
                started_ms=epoch_ms(stage.started_at),
                ended_ms=epoch_ms(stage.ended_at),
                duration_ms=stage.duration_ms,
                ttft_ms=stage.time_to_first_token_ms,
                input_tokens=stage.input_tokens,
                output_tokens=stage.output_tokens,
                cost=stage.cost,
                cost_source=stage.cost_source,
                error=stage.error,
                attempt=stage.attempts or 1,
            )
        )
    return state
