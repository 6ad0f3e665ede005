"""The real local model behind the whole engine: a two-stage pipeline streams and completes."""

from __future__ import annotations

from typing import Any

import pytest

from executions.engine.executor import PipelineExecutor
from executions.engine.loader import load_pipeline_text

PIPELINE = """
id: local-two
name: Local two
defaults:
  model: { provider: local, maxTokens: 48, temperature: 0.2 }
stages:
  - id: answer
    prompt: "In two sentences: {{input}}"
  - id: shorter
    prompt: "Say this in one sentence: {{stages.answer.output}}"
"""


@pytest.mark.localmodel
async def test_two_local_stages_stream_at_least_ten_deltas_and_complete() -> None:
    events: list[dict[str, Any]] = []
    executor = PipelineExecutor(
        load_pipeline_text(PIPELINE, "local-two.yaml"), input="why is the sky blue?", on_event=events.append
    )
    await executor.run()
    assert events[-1]["type"] == "execution:completed"
    assert events[-1]["result"]["status"] == "success"
    chunks = [e for e in events if e["type"] == "stage:output" and e["output"]]
    assert len(chunks) >= 10
    for stage_id in ("answer", "shorter"):
        text = "".join(e["output"] for e in chunks if e["stageId"] == stage_id)
        assert text.strip(), f"{stage_id} produced no text"
        done = next(e for e in events if e["type"] == "stage:completed" and e["stage"]["id"] == stage_id)
        assert done["result"]["usage"]["outputTokens"] > 0
        assert done["result"]["costSource"] == "free"
