"""The engine's small contracts: what a provider yields, what a stage is called, what callbacks receive.

A validated pipeline is a plain JSON-compatible ``dict`` in the YAML's own shape (camelCase keys, as
ARCHITECTURE.md fixes them), so it can be stored on an Execution as it is and shown as it was written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

PROVIDERS = ("anthropic", "openai", "openai-compatible", "google", "local", "cli")
CLI_TOOLS = ("claude", "opencode", "gemini", "command")
OUTPUT_FORMATS = ("text", "json", "markdown")
RUN_MODES = ("api", "cli", "local")

DEFAULT_RETRIES = 2
DEFAULT_TIMEOUT_MS = 300_000
MAX_CHUNK_BYTES = 4096

PipelineConfig = dict[str, Any]
"""A validated pipeline: the YAML's shape, defaults not yet merged into stages."""

ModelConfig = dict[str, Any]
"""A stage's model settings after the pipeline defaults (and --mode/--tool) are merged: ``provider`` is set.
Keys as in YAML: provider, model, maxTokens, temperature, baseURL, apiKeyEnv, path, tool, command,
allowedTools, cwd."""

FinishReason = Literal["stop", "length", "content-filter", "tool-calls", "error", "other"]


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def to_wire(self) -> dict[str, int]:
        wire = {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens}
        if self.cache_read_tokens:
            wire["cacheReadTokens"] = self.cache_read_tokens
        if self.cache_write_tokens:
            wire["cacheWriteTokens"] = self.cache_write_tokens
        return wire


# --- What a provider yields -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Text as it arrives, in order. Never empty."""

    text: str


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """Token usage so far (cumulative: the latest one wins)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class FinishDelta:
    """The last delta of a successful call. ``cost_usd`` when the tool reports its own cost (agent CLIs)."""

    reason: FinishReason
    usage: Usage | None = None
    cost_usd: float | None = None
    session_id: str | None = None


Delta = TextDelta | UsageDelta | FinishDelta


@dataclass(frozen=True, slots=True)
class ModelRequest:
    model: ModelConfig
    prompt: str
    system: str | None = None
    #: working directory for agent CLIs (a per-execution temp dir unless the stage names ``cwd``)
    cwd: str | None = None


class Provider(Protocol):
    """The one contract every model source meets.

    ``stream`` is an async generator of deltas. Cancellation is asyncio's: when the consuming task is
    cancelled (cancel, timeout), the generator is closed and must stop the in-flight call at once
    (leave the SDK stream's ``async with``, kill the CLI, tell the local model to stop). Failures are
    raised as :mod:`executions.engine.errors` types so the stage runner can decide on retries by type.
    """

    name: str

    def stream(self, request: ModelRequest) -> AsyncIterator[Delta]: ...


# --- What the executor reports -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageRef:
    id: str
    name: str
    type: str
    provider: str = ""
    model: str = ""

    def to_wire(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "type": self.type, "provider": self.provider, "model": self.model}


@dataclass(slots=True)
class StageResult:
    cost: float
    #: where ``cost`` comes from: tool (its own report), price-table, free (local model), unknown
    cost_source: str
    duration_ms: float
    usage: Usage
    time_to_first_token_ms: float | None
    attempts: int
    finish_reason: str
    provider: str
    model: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "status": "completed",
            "cost": self.cost,
            "costSource": self.cost_source,
            "duration": round(self.duration_ms, 1),
            "usage": self.usage.to_wire(),
            "timeToFirstToken": None if self.time_to_first_token_ms is None else round(self.time_to_first_token_ms, 1),
            "attempts": self.attempts,
            "finishReason": self.finish_reason,
            "provider": self.provider,
            "model": self.model,
        }


@dataclass(slots=True)
class StageOutcome:
    status: Literal["pending", "completed", "skipped", "failed", "cancelled"] = "pending"
    output: str = ""
    data: Any = None
    result: StageResult | None = None
    reason: str | None = None
    error: str | None = None


@dataclass(slots=True)
class ExecutionOutcome:
    execution_id: str
    #: success | early_exit | failed | cancelled
    status: str
    stages: dict[str, StageOutcome] = field(default_factory=dict)
    error: str | None = None
    #: seconds since the epoch
    started_at: float = 0.0
    ended_at: float = 0.0
    #: the totals ``execution:completed`` carries: stagesCompleted, stagesSkipped, stagesFailed,
    #: totalCost, totalDuration (ms), usage, finalStageId, earlyExitStageId
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunOverrides:
    """``--mode api|cli|local`` and ``--tool``: run every stage on that kind of model."""

    mode: str | None = None
    tool: str | None = None


class ExecutorCallbacks:
    """Hooks the executor calls in event order. Override what you need; each may be sync or ``async``.

    ``on_event`` receives every stamped wire event (``type``, ``executionId``, ``seq``, ``ts`` …).
    """

    def on_pipeline_start(
        self, *, execution_id: str, pipeline: PipelineConfig, input: str, stages: list[StageRef]
    ) -> Any:
        pass

    def on_stage_start(self, stage: StageRef, index: int, total: int) -> Any:
        pass

    def on_stage_output(self, stage: StageRef, output: str, is_final: bool, offset: int) -> Any:
        pass

    def on_stage_retrying(self, stage: StageRef, attempt: int, error: str, delay_s: float) -> Any:
        pass

    def on_stage_complete(self, stage: StageRef, result: StageResult, output: str, data: Any) -> Any:
        pass

    def on_stage_skipped(self, stage: StageRef, reason: str) -> Any:
        pass

    def on_stage_failed(self, stage: StageRef, error: str, output: str) -> Any:
        pass

    def on_pipeline_complete(self, outcome: ExecutionOutcome) -> Any:
        pass

    def on_event(self, event: dict[str, Any]) -> Any:
        pass


class CallbackChain(ExecutorCallbacks):
    """Several callback objects as one, called in the order given (e.g. the recorder, then the terminal)."""

    def __init__(self, *targets: ExecutorCallbacks) -> None:
        self.targets = targets

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            targets = object.__getattribute__(self, "targets")

            async def call_all(*args: Any, **kwargs: Any) -> None:
                for target in targets:
                    result = getattr(target, name)(*args, **kwargs)
                    if hasattr(result, "__await__"):
                        await result

            return call_all
        return object.__getattribute__(self, name)
