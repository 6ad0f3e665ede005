"""Re-runs on the real stack (API → worker → Redis → SSE), the fake model server counting its calls:
reused stages make no model call and are the parent's byte for byte, in events that keep every wire
rule; a retry calls only the stages that did not finish; edits reach the model; bad requests change
nothing."""

from __future__ import annotations

import textwrap
from typing import Any

from executions.models import Execution
from tests.helpers.integration import outputs_by_stage
from tests.helpers.stack import Stack
from tests.helpers.wire import assert_wire_contract

THREE = """
id: three-stages
name: Three stages
defaults:
  model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }
stages:
  - id: one
    prompt: "one [fake:text=Grüße |日本語 |😀 end] {{input}}"
  - id: two
    prompt: "two [fake:%s] {{stages.one.output}}"
  - id: three
    prompt: "three [fake:text=done|!] {{stages.two.output}}"
"""


def _pipeline(live: Stack, two: str = "deltas=3,interval_ms=2", pipeline_id: str = "three-stages") -> str:
    text = textwrap.dedent(THREE % two).replace("three-stages", pipeline_id)
    (live.pipelines_dir / f"{pipeline_id}.yaml").write_text(text)
    return pipeline_id


def _finish(live: Stack, execution_id: str, token: str) -> list[dict[str, Any]]:
    return live.sse(execution_id, token).start().wait(60).events


def _snapshot(live: Stack, execution_id: str, token: str) -> dict[str, Any]:
    status, snapshot = live.request("GET", f"/api/executions/{execution_id}", token=token)
    assert status == 200, snapshot
    return snapshot


def _rerun(live: Stack, execution_id: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    return live.request("POST", f"/api/executions/{execution_id}/rerun", token=token, body=body)


def _prompts(live: Stack, since: int) -> list[str]:
    return [str(call.request.body["messages"][0]["content"]) for call in live.fake.calls[since:]]


def test_a_rerun_from_the_last_stage_calls_the_model_once_and_reuses_the_rest_byte_for_byte(live: Stack) -> None:
    alice = live.tokens["alice"]
    parent_id = live.run(alice, "the input", pipeline=_pipeline(live))
    parent_events = _finish(live, parent_id, alice)
    assert parent_events[-1]["result"]["status"] == "success"
    parent = _snapshot(live, parent_id, alice)
    calls_before = len(live.fake.calls)

    status, body = _rerun(live, parent_id, alice, {"fromStage": "three"})
    assert status == 202, body
    assert body["url"] == f"/executions/{body['executionId']}/"
    events = _finish(live, body["executionId"], alice)
    assert_wire_contract(events)
    assert events[-1]["result"]["status"] == "success"
    assert len(live.fake.calls) - calls_before == 1  # stage three alone
    assert _prompts(live, calls_before)[0].startswith("three [fake:text=done|!] ")

    child = _snapshot(live, body["executionId"], alice)
    assert (child["parentId"], child["fromStage"]) == (parent_id, "three")
    assert (parent["parentId"], parent["fromStage"]) == (None, None)
    for index in (0, 1):
        assert child["stages"][index]["output"] == parent["stages"][index]["output"]
        assert child["stages"][index]["output"].encode() == parent["stages"][index]["output"].encode()
    assert child["stages"][0]["output"] == "Grüße 日本語 😀 end"
    assert outputs_by_stage(events) == {s["id"]: s["output"] for s in child["stages"]}
    reused = [e["result"] for e in events if e["type"] == "stage:completed"][:2]
    assert [(r["reusedFrom"], r["cost"]) for r in reused] == [(parent_id, 0.0), (parent_id, 0.0)]
    assert "reusedFrom" not in [e for e in events if e["type"] == "stage:completed"][2]["result"]
    # The record keeps the parsed data and text the stream carried.
    row = Execution.objects.get(pk=body["executionId"]).stages.get(stage_id="one")
    assert row.output == parent["stages"][0]["output"]


def test_retry_after_a_failed_stage_calls_only_the_stages_that_did_not_finish(live: Stack) -> None:
    alice = live.tokens["alice"]
    pipeline_id = _pipeline(live, two="status=500", pipeline_id="three-failing")
    parent_id = live.run(alice, "x", pipeline=pipeline_id)
    events = _finish(live, parent_id, alice)
    assert events[-1]["result"]["status"] == "failed"
    parent = _snapshot(live, parent_id, alice)
    assert [s["status"] for s in parent["stages"]] == ["completed", "failed", "skipped"]

    # Reusing the failed stage is refused, naming it; nothing is created.
    count = Execution.objects.count()
    status, body = _rerun(live, parent_id, alice, {"fromStage": "three"})
    assert status == 409, body
    assert body["error"]["code"] == "stage_not_reusable" and "stage two was failed" in body["error"]["message"]
    assert Execution.objects.count() == count

    # The retry edits stage two's prompt so that the fake answers; one and its text are reused.
    calls_before = len(live.fake.calls)
    fixed = "two [fake:text=fixed|!] {{stages.one.output}}"
    status, body = _rerun(live, parent_id, alice, {"fromStage": "two", "stages": {"two": {"prompt": fixed}}})
    assert status == 202, body
    events = _finish(live, body["executionId"], alice)
    assert events[-1]["result"]["status"] == "success"
    prompts = _prompts(live, calls_before)
    assert [p.split(" ")[0] for p in prompts] == ["two", "three"]
    assert prompts[0] == "two [fake:text=fixed|!] " + parent["stages"][0]["output"]  # the edit reached the model
    child = _snapshot(live, body["executionId"], alice)
    assert [s["output"] for s in child["stages"]] == [parent["stages"][0]["output"], "fixed!", "done!"]


def test_a_new_input_runs_every_stage_again(live: Stack) -> None:
    alice = live.tokens["alice"]
    parent_id = live.run(alice, "first input", pipeline=_pipeline(live, pipeline_id="three-input"))
    _finish(live, parent_id, alice)
    calls_before = len(live.fake.calls)
    status, body = _rerun(live, parent_id, alice, {"fromStage": "three", "input": "second input"})
    assert status == 202, body
    _finish(live, body["executionId"], alice)
    assert len(live.fake.calls) - calls_before == 3
    assert _prompts(live, calls_before)[0].endswith("second input")
    assert _snapshot(live, body["executionId"], alice)["fromStage"] == "one"


def test_bad_reruns_are_refused_with_what_was_wrong_and_nothing_is_created(live: Stack) -> None:
    alice, bob = live.tokens["alice"], live.tokens["bob"]
    parent_id = live.run(alice, "x", pipeline=_pipeline(live, pipeline_id="three-bad"))
    _finish(live, parent_id, alice)
    count = Execution.objects.count()
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"fromStage": "nope"}, 400, "unknown_stage", "its stages: one, two, three"),
        ({"stages": {"nope": {"prompt": "x"}}}, 400, "unknown_stage", "its stages: one, two, three"),
        (
            {"stages": {"two": {"prompt": "{{stages.nope.output}}"}}},
            400,
            "invalid_pipeline",
            "stages.two.prompt: unknown",
        ),
        ({"stages": {"two": {"temperature": 1}}}, 400, "unknown_field", "allowed: prompt, system, model"),
        ({"stages": {"two": {"model": "gpt"}}}, 400, "bad_body", "stages.two.model must be an object"),
        ({"fromStage": 3}, 400, "bad_body", "fromStage must be a stage id"),
        ({"inputs": "x"}, 400, "unknown_field", "allowed: fromStage, input, stages"),
    ]
    for body, status, code, message in cases:
        got, answer = _rerun(live, parent_id, alice, body)
        assert (got, answer["error"]["code"]) == (status, code), (body, answer)
        assert message in answer["error"]["message"], (body, answer)
    # Another user's run is unknown to bob, as on every route; a malformed body is refused too.
    assert _rerun(live, parent_id, bob, {})[0] == 404
    got, answer = live.request(
        "POST", f"/api/executions/{parent_id}/rerun", token=alice, body=b"[1]", headers={"Content-Type": "text/plain"}
    )
    assert got == 415
    assert Execution.objects.count() == count
    # Without fromStage, everything runs again (and nothing is reused).
    status, body = _rerun(live, parent_id, alice, {})
    assert status == 202
    events = _finish(live, body["executionId"], alice)
    assert not any("reusedFrom" in e["result"] for e in events if e["type"] == "stage:completed")
