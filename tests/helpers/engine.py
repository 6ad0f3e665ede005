"""Builds small pipelines and runs them through PipelineExecutor with a scripted provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from executions.engine.executor import PipelineExecutor
from executions.engine.types import EventSink, ExecutionOutcome
from tests.helpers.scripted_provider import ScriptedProvider
from tests.helpers.wire import Recorder


def pipeline(*stages: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stages s1, s2 … with prompt ``prompt N: {{input}}`` unless given; an API model by default."""
    return {
        "id": "test-pipe",
        "name": "Test pipeline",
        "defaults": {"model": {"provider": "openai-compatible", "model": "fake-model"}, **(defaults or {})},
        "stages": [{"id": f"s{i + 1}", "prompt": f"prompt {i + 1}: {{{{input}}}}", **s} for i, s in enumerate(stages)],
    }


@dataclass
class Run:
    executor: PipelineExecutor
    recorder: Recorder
    outcome: ExecutionOutcome

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.recorder.events


def make_executor(
    p: dict[str, Any],
    provider: ScriptedProvider,
    on_event: EventSink | None = None,
    **options: Any,
) -> PipelineExecutor:
    options.setdefault("input", "the input")
    options.setdefault("env", {})
    options.setdefault("retry_base_delay_s", 0.001)
    options.setdefault("execution_id", "exec-1")
    return PipelineExecutor(p, on_event=on_event or Recorder(), resolve_provider=provider.resolver, **options)


async def run(p: dict[str, Any], provider: ScriptedProvider, **options: Any) -> Run:
    recorder = Recorder()
    executor = make_executor(p, provider, recorder, **options)
    outcome = await executor.run()
    return Run(executor, recorder, outcome)
