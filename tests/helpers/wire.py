"""Checks of the wire-event contract (ARCHITECTURE.md "Wire events") and small readers of an event list."""

from __future__ import annotations

import asyncio
from typing import Any

from executions.engine.types import ExecutorCallbacks, StageRef, StageResult

FIELDS = {
    "execution:started": {"pipelineId", "pipelineName", "input", "stages"},
    "stage:started": {"stage", "index", "total"},
    "stage:output": {"stageId", "output", "offset", "isFinal"},
    "stage:retrying": {"stageId", "attempt", "error", "delayMs"},
    "stage:completed": {"stage", "result"},
    "stage:skipped": {"stage", "reason"},
    "stage:failed": {"stage", "error", "code"},
    "execution:completed": {"result"},
    "execution:cancelled": {"reason"},
    "execution:failed": {"error"},
}
FINALS = {"execution:completed", "execution:cancelled", "execution:failed"}
STAGE_REF_FIELDS = {"id", "name", "type", "provider", "model"}
RESULT_FIELDS = {
    "status",
    "cost",
    "costSource",
    "duration",
    "usage",
    "timeToFirstToken",
    "attempts",
    "finishReason",
    "provider",
    "model",
}
SUMMARY_FIELDS = {
    "stagesCompleted",
    "stagesSkipped",
    "stagesFailed",
    "totalCost",
    "totalDuration",
    "usage",
    "finalStageId",
    "earlyExitStageId",
}


def assert_wire_contract(events: list[dict[str, Any]]) -> None:
    assert events, "no events"
    execution_id = events[0]["executionId"]
    open_stages: set[str] = set()
    offsets: dict[str, int] = {}
    for i, e in enumerate(events):
        assert set(e) == {"type", "executionId", "seq", "ts"} | FIELDS[e["type"]], e
        assert e["seq"] == i + 1
        assert e["executionId"] == execution_id
        assert isinstance(e["ts"], int) and e["ts"] > 1_600_000_000_000
        assert (e["type"] in FINALS) == (i == len(events) - 1), f"final event must be last and only: {e}"
        t = e["type"]
        if t == "execution:started":
            assert all(set(s) == STAGE_REF_FIELDS for s in e["stages"])
        elif t == "stage:started":
            assert set(e["stage"]) == STAGE_REF_FIELDS
            open_stages.add(e["stage"]["id"])
            offsets[e["stage"]["id"]] = 0
        elif t == "stage:output":
            sid = e["stageId"]
            assert sid in open_stages, f"output outside its stage: {e}"
            assert len(e["output"].encode("utf-8")) <= 4096
            assert e["offset"] == offsets[sid]
            offsets[sid] += len(e["output"])
        elif t == "stage:retrying":
            assert e["stageId"] in open_stages
            offsets[e["stageId"]] = 0
        elif t in ("stage:completed", "stage:failed"):
            sid = e["stage"]["id"]
            assert sid in open_stages
            open_stages.discard(sid)
            if t == "stage:completed":
                assert set(e["result"]) == RESULT_FIELDS
        elif t == "execution:completed":
            assert set(e["result"]) == {"status", "summary"}
            assert set(e["result"]["summary"]) == SUMMARY_FIELDS
    # Every stage that started ended its output with exactly one final chunk.
    for sid in {e["stage"]["id"] for e in events if e["type"] == "stage:started"}:
        finals = [e for e in events if e["type"] == "stage:output" and e["stageId"] == sid and e["isFinal"]]
        assert len(finals) == 1, f"stage {sid}: {len(finals)} final chunks"


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def output_of(events: list[dict[str, Any]], stage_id: str) -> str:
    """The stage's output as a viewer sees it: chunks after its last retry, concatenated."""
    text = ""
    for e in events:
        if e["type"] == "stage:retrying" and e["stageId"] == stage_id:
            text = ""
        elif e["type"] == "stage:output" and e["stageId"] == stage_id:
            text += e["output"]
    return text


def chunks(events: list[dict[str, Any]]) -> list[tuple[str, str, int, bool]]:
    return [(e["stageId"], e["output"], e["offset"], e["isFinal"]) for e in events if e["type"] == "stage:output"]


class Recorder(ExecutorCallbacks):
    """Every callback as a short line, plus every event, in the order the executor made them."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.results: dict[str, StageResult] = {}
        #: set at the first stage:output event, for tests that act mid-stream
        self.first_output = asyncio.Event()

    def on_pipeline_start(self, *, execution_id: str, pipeline: Any, input: str, stages: list[StageRef]) -> None:
        self.calls.append(f"pipeline_start {input!r} {[s.id for s in stages]}")

    def on_stage_start(self, stage: StageRef, index: int, total: int) -> None:
        self.calls.append(f"stage_start {stage.id} {index}/{total}")

    def on_stage_output(self, stage: StageRef, output: str, is_final: bool, offset: int) -> None:
        self.calls.append(f"output {stage.id} {output!r} @{offset}{' final' if is_final else ''}")

    def on_stage_retrying(self, stage: StageRef, attempt: int, error: str, delay_s: float) -> None:
        self.calls.append(f"retrying {stage.id} attempt {attempt}: {error}")

    def on_stage_complete(self, stage: StageRef, result: StageResult, output: str, data: Any) -> None:
        self.results[stage.id] = result
        self.calls.append(f"complete {stage.id} {output!r} {data!r}")

    def on_stage_skipped(self, stage: StageRef, reason: str) -> None:
        self.calls.append(f"skipped {stage.id}: {reason}")

    def on_stage_failed(self, stage: StageRef, error: str, output: str) -> None:
        self.calls.append(f"failed {stage.id}: {error} | {output!r}")

    def on_pipeline_complete(self, outcome: Any) -> None:
        self.calls.append(f"pipeline_complete {outcome.status}")

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.calls.append(f"event {event['type']}")
        if event["type"] == "stage:output":
            self.first_output.set()
