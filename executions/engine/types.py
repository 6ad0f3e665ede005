"""The engine's small contracts: what a provider yields, what a stage is called, what callbacks receive.

A validated pipeline is a plain JSON-compatible ``dict`` in the YAML's own shape (camelCase keys, as
ARCHITECTURE.md fixes them), so it can be stored on an Execution as it is and shown as it was written.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
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
class ReusedStage:
    """A stage a re-run takes from an earlier execution instead of calling its model: its text and
    parsed data byte for byte, or the reason it was skipped there."""

    #: the execution it comes from
    source: str
    #: completed | skipped
    status: str
    output: str = ""
    data: Any = None
    reason: str = ""
    provider: str = ""
    model: str = ""
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class RunOverrides:
    """``--mode api|cli|local`` and ``--tool``: run every stage on that kind of model."""

    mode: str | None = None
    tool: str | None = None


EventSink = Callable[[dict[str, Any]], Any]
"""Where the executor hands every stamped wire event, in order: a function, sync (called at once, on the
per-chunk path) or async (awaited in order behind the stream, with backpressure)."""


def fan_out(*sinks: EventSink) -> EventSink:
    """Several sinks as one, each given every event in the order listed (the publisher, then the
    recorder, say). Sync sinks stay sync: no coroutine is made per event."""

    def on_event(event: dict[str, Any]) -> Any:
        pending = [result for sink in sinks if inspect.isawaitable(result := sink(event))]
        return asyncio.gather(*pending) if pending else None

    return on_event
