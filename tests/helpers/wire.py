"""Checks of the wire-event contract (ARCHITECTURE.md "Wire events") and small readers of an event list."""

from __future__ import annotations

import asyncio
from typing import Any

from executions.engine.wire import TextFold, final_event_status

FIELDS = {
    "execution:started": {"pipelineId", "pipelineName", "input", "stages"},
    "stage:started": {"stage", "index", "total"},
    "stage:output": {"stageId", "output", "offset", "isFinal"},
    "stage:retrying": {"stageId", "attempt", "error", "delayMs"},
    "stage:completed": {"stage", "result"},  # + data when the stage parsed JSON
    "stage:skipped": {"stage", "reason"},
    "stage:failed": {"stage", "error", "code"},
    "execution:completed": {"result"},
    "execution:cancelled": {"reason"},
    "execution:failed": {"error"},
}
#: fields an event of that type may carry besides its required ones (the contract grows, never reshapes)
OPTIONAL_FIELDS = {"stage:completed": {"data"}}
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
        optional = OPTIONAL_FIELDS.get(e["type"], set())
        assert set(e) - optional == {"type", "executionId", "seq", "ts"} | FIELDS[e["type"]], e
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
                # reusedFrom: a re-run's stage taken from the run it names (no model call, cost 0)
                assert set(e["result"]) - {"reusedFrom"} == RESULT_FIELDS
        elif t == "execution:completed":
            assert set(e["result"]) - {"error"} == {"status", "summary"}
            assert ("error" in e["result"]) == (e["result"]["status"] == "failed")
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


class Recorder:
    """An event sink for the executor: every event, and a short line for each, in the order the executor
    made them. Subclasses react to events in ``react`` (sync) or override ``__call__`` (async)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.texts: dict[str, TextFold] = {}
        #: set at the first stage:output event, for tests that act mid-stream
        self.first_output = asyncio.Event()

    def __call__(self, event: dict[str, Any]) -> Any:
        self.record(event)
        return self.react(event)

    def react(self, event: dict[str, Any]) -> Any:
        pass

    def record(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.calls.append(self.line(event))
        if event["type"] == "stage:output":
            self.first_output.set()

    def line(self, event: dict[str, Any]) -> str:
        kind = event["type"]
        if kind == "execution:started":
            return f"pipeline_start {event['input']!r} {[s['id'] for s in event['stages']]}"
        if kind == "stage:started":
            self.texts[event["stage"]["id"]] = TextFold()
            return f"stage_start {event['stage']['id']} {event['index']}/{event['total']}"
        if kind == "stage:output":
            self.texts[event["stageId"]].add(event["output"], event["offset"])
            final = " final" if event["isFinal"] else ""
            return f"output {event['stageId']} {event['output']!r} @{event['offset']}{final}"
        if kind == "stage:retrying":
            return f"retrying {event['stageId']} attempt {event['attempt']}: {event['error']}"
        if kind == "stage:completed":
            stage_id = event["stage"]["id"]
            self.results[stage_id] = event["result"]
            return f"complete {stage_id} {self.texts[stage_id].text()!r} {event.get('data')!r}"
        if kind == "stage:skipped":
            return f"skipped {event['stage']['id']}: {event['reason']}"
        if kind == "stage:failed":
            stage_id = event["stage"]["id"]
            return f"failed {stage_id}: {event['error']} | {self.texts[stage_id].text()!r}"
        return f"pipeline_complete {final_event_status(event)}"
