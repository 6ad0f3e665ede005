"""The guarantee every late joiner, refresh and resume relies on: for any run and any k, the snapshot at
seq k plus the events after k equals the snapshot at the end.

Runs are real: the PipelineExecutor plays a generated script (stages that stream awkward text, retry,
fail, are skipped, parse JSON, or are cancelled mid-stream). Checked twice:
- in the wire model alone (executions/engine/wire.py): fold, snapshot, restore, apply the rest;
- through the record: the worker's recorder stores the events up to j, the worker's publisher has put
  j+1..k on the live stream (the writer a little behind, as in a real run), the API's snapshot is read
  from both, the rest is applied to it, and that equals the API's snapshot once the run is stored.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executions.engine import wire
from executions.engine.errors import ProviderHTTPError
from executions.engine.executor import PipelineExecutor
from tests.helpers.engine import pipeline
from tests.helpers.scripted_provider import ScriptedProvider
from tests.helpers.wire import assert_wire_contract
from tests.properties.strategies import AWKWARD

#: a delta as a model may send it: short, often awkward (multi-byte, line ends, NUL …)
delta = st.one_of(st.sampled_from(AWKWARD), st.text(min_size=1, max_size=12))

KINDS = ("ok", "ok", "retry", "fail", "skip", "json", "continue")


@dataclass
class Plan:
    stages: list[dict[str, Any]]
    scripts: list[list[Any]]
    #: the executor is cancelled when this many events have gone out (None: never)
    cancel_at: int | None


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    stages: list[dict[str, Any]] = []
    scripts: list[list[Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(KINDS))
        text = draw(st.lists(delta, max_size=6))
        if kind == "skip":
            stages.append({"runIf": {"path": "input", "equals": "never"}})
            continue
        if kind == "json":
            stages.append({"output": {"format": "json"}})
            scripts.append(['{"verdict": ', json.dumps(draw(st.text(max_size=8))), "}"])
            continue
        if kind == "retry":
            scripts.append([*text, ProviderHTTPError("openai-compatible", 503, "busy")])
            text = draw(st.lists(delta, max_size=4))
        if kind in ("fail", "continue"):
            stages.append({"continueOnError": kind == "continue"})
            scripts.append([*text, ProviderHTTPError("openai-compatible", 400, "bad request")])
            continue
        stages.append({})
        scripts.append(text)
    cancel_at = draw(st.one_of(st.none(), st.integers(1, 30)))
    return Plan(stages, scripts, cancel_at)


def play(plan: Plan, execution_id: str = "exec-1") -> list[wire.Event]:
    """The run's events; checked against what the stage runner itself made of each stage (the outcome),
    so a fold that is wrong everywhere alike still fails."""
    events: list[wire.Event] = []

    def sink(event: wire.Event) -> None:
        events.append(event)
        if plan.cancel_at is not None and len(events) == plan.cancel_at:
            executor.cancel("stopped by the test")

    executor = PipelineExecutor(
        pipeline(*plan.stages),
        input="the input",
        execution_id=execution_id,
        on_event=sink,
        resolve_provider=ScriptedProvider(*plan.scripts).resolver,
        env={},
        retry_base_delay_s=0.0,
    )
    outcome = asyncio.run(executor.run())
    assert_wire_contract(events)
    folded = {s.id: s for s in fold(events, execution_id).stages}
    for stage_id, stage in outcome.stages.items():
        if stage.status != "pending":
            assert (folded[stage_id].status, folded[stage_id].text.text()) == (stage.status, stage.output)  # type: ignore[union-attr]
    assert fold(events, execution_id).status == outcome.status
    return events


def fold(events: list[wire.Event], execution_id: str = "exec-1") -> wire.RunState:
    state = wire.RunState(id=execution_id)
    for event in events:
        wire.apply_event(state, event)
    return state


def joined_at(snapshot: dict[str, Any], rest: list[wire.Event]) -> dict[str, Any]:
    """What a late joiner shows: the snapshot it read (as JSON, as it travels), then every later event."""
    state = wire.run_from_snapshot(json.loads(json.dumps(snapshot)))
    for event in rest:
        wire.apply_event(state, event)
    return wire.run_snapshot(state)


@given(plans(), st.data())
def test_the_snapshot_at_k_plus_the_events_after_k_is_the_end(plan: Plan, data: st.DataObject) -> None:
    events = play(plan)
    end = wire.run_snapshot(fold(events))
    assert end["status"] in wire.FINAL_EXECUTION_STATUSES
    assert all(s["status"] in wire.FINAL_STAGE_STATUSES for s in end["stages"])
    for k in range(len(events) + 1):
        at_k = wire.run_snapshot(fold(events[:k]))
        assert at_k["lastSeq"] == k
        assert joined_at(at_k, events[k:]) == end, f"joined at seq {k}"


def test_applying_an_event_twice_changes_nothing() -> None:
    """A viewer that gets an event it already has (a replay overlapping the live stream) ignores it."""
    events = play(Plan([{}, {}], [["a", "b"], ["c"]], None))
    once = fold(events)
    twice = fold([e for event in events for e in (event, event)])
    assert wire.run_snapshot(twice) == wire.run_snapshot(once)
    assert [s["output"] for s in wire.run_snapshot(once)["stages"]] == ["ab", "c"]


WIRE_KEYS = ("status", "error", "lastSeq", "input", "stages")


@pytest.mark.django_db(transaction=True)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=plans(), data=st.data())
def test_the_api_snapshot_mid_run_plus_the_rest_is_the_api_snapshot_at_the_end(
    redis_url: str, plan: Plan, data: st.DataObject
) -> None:
    from executions.live.relay import EventPublisher
    from executions.models import Execution
    from executions.selectors import execution_snapshot
    from executions.services import execution_create
    from executions.worker.recorder import ExecutionRecorder

    execution = execution_create(pipeline=pipeline(*plan.stages), input="the input")
    execution_id = str(execution.pk)
    events = play(plan, execution_id)
    k = data.draw(st.integers(0, len(events)), label="k")
    j = data.draw(st.integers(0, k), label="stored")
    publisher = EventPublisher(execution_id)
    recorder = ExecutionRecorder(execution_id)
    try:
        for event in events[:j]:
            recorder(event)
        recorder.wait_stored()
        for event in events[:k]:
            if event["type"] not in wire.FINAL_EVENT_TYPES:  # the final event is published once stored
                publisher.publish(event)
        at_k = execution_snapshot(execution=Execution.objects.get(pk=execution_id))
        published = [e["seq"] for e in events[j:k] if e["type"] not in wire.FINAL_EVENT_TYPES]
        assert at_k["lastSeq"] == max([j, *published])
        for event in events[j:]:
            recorder(event)
    finally:
        recorder.close()
        publisher.client.delete(publisher.key)
    end = execution_snapshot(execution=Execution.objects.get(pk=execution_id))
    assert end["lastSeq"] == len(events)
    assert end["stages"] == wire.run_snapshot(fold(events, execution_id))["stages"]
    rest = [e for e in events if e["seq"] > at_k["lastSeq"]]
    joined = joined_at({key: at_k[key] for key in ("id", "pipelineId", "pipelineName", *WIRE_KEYS)}, rest)
    assert {key: joined[key] for key in WIRE_KEYS} == {key: end[key] for key in WIRE_KEYS}
