"""PipelineExecutor: callback and event order, seq, templates between stages, conditions, failures."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from executions.engine.errors import ProviderHTTPError
from executions.engine.types import FinishDelta, ReusedStage, Usage, fan_out
from tests.helpers.engine import make_executor, pipeline, run
from tests.helpers.scripted_provider import Gate, ScriptedProvider
from tests.helpers.wire import Recorder, assert_wire_contract, chunks, output_of, types

SLOW = {"coalesce_interval_ms": 60_000}  # no timer flush: chunks depend only on the deltas


async def test_two_stages_exact_events_and_the_template_hand_off():
    provider = ScriptedProvider(
        ["Alpha", " beta", " gamma", FinishDelta("stop", Usage(7, 3))],
        ["Done: ", "ok", FinishDelta("length", Usage(11, 2))],
    )
    p = pipeline({}, {"prompt": "Improve: {{stages.s1.output}}", "system": "Be brief about {{input}}."})
    r = await run(p, provider, **SLOW)
    assert_wire_contract(r.events)
    assert types(r.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:output",
        "stage:completed",
        "stage:started",
        "stage:output",
        "stage:output",
        "stage:completed",
        "execution:completed",
    ]
    assert chunks(r.events) == [
        ("s1", "Alpha", 0, False),
        ("s1", " beta gamma", 5, True),
        ("s2", "Done: ", 0, False),
        ("s2", "ok", 6, True),
    ]
    started = r.events[0]
    assert started["pipelineId"] == "test-pipe" and started["pipelineName"] == "Test pipeline"
    assert started["input"] == "the input"
    assert started["stages"] == [
        {"id": "s1", "name": "s1", "type": "generate", "provider": "openai-compatible", "model": "fake-model"},
        {"id": "s2", "name": "s2", "type": "generate", "provider": "openai-compatible", "model": "fake-model"},
    ]
    assert r.events[1]["stage"]["id"] == "s1" and (r.events[1]["index"], r.events[1]["total"]) == (0, 2)
    assert r.events[5]["stage"]["id"] == "s2" and (r.events[5]["index"], r.events[5]["total"]) == (1, 2)
    assert [(q.prompt, q.system) for q in provider.requests] == [
        ("prompt 1: the input", None),
        ("Improve: Alpha beta gamma", "Be brief about the input."),
    ]
    result = r.events[4]["result"]
    assert result["status"] == "completed"
    assert result["usage"] == {"inputTokens": 7, "outputTokens": 3}
    assert (result["attempts"], result["finishReason"], result["provider"], result["model"]) == (
        1,
        "stop",
        "openai-compatible",
        "fake-model",
    )
    assert (result["cost"], result["costSource"]) == (0.0, "unknown")  # a remote compatible server: no price
    assert r.events[8]["result"]["finishReason"] == "length"
    summary = r.events[-1]["result"]["summary"]
    assert r.events[-1]["result"]["status"] == "success"
    assert summary["usage"] == {"inputTokens": 18, "outputTokens": 5}
    assert (summary["stagesCompleted"], summary["stagesSkipped"], summary["stagesFailed"]) == (2, 0, 0)
    assert (summary["finalStageId"], summary["earlyExitStageId"]) == ("s2", None)
    assert r.outcome.status == "success" and r.outcome.error is None
    assert r.outcome.summary == summary
    assert {k: (s.status, s.output) for k, s in r.outcome.stages.items()} == {
        "s1": ("completed", "Alpha beta gamma"),
        "s2": ("completed", "Done: ok"),
    }


async def test_cost_from_the_tool_else_from_the_price_table():
    provider = ScriptedProvider(
        ["a", FinishDelta("stop", Usage(100, 10), cost_usd=0.0123)],
        ["b", FinishDelta("stop", Usage(1000, 500))],
    )
    p = pipeline(
        {"model": {"provider": "cli", "tool": "claude"}},
        {"model": {"provider": "openai", "model": "gpt-4o-mini"}},
    )
    r = await run(p, provider)
    results = [e["result"] for e in r.events if e["type"] == "stage:completed"]
    assert [(x["cost"], x["costSource"]) for x in results] == [(0.0123, "tool"), (0.00045, "price-table")]
    assert r.events[-1]["result"]["summary"]["totalCost"] == 0.0123 + 0.00045


#: a one-stage run of "one", " two": one line per event, in the order they were made
CALLS_IN_ORDER = [
    "pipeline_start 'x' ['s1']",
    "stage_start s1 0/1",
    "output s1 'one' @0",
    "output s1 ' two' @3 final",
    "complete s1 'one two' None",
    "pipeline_complete success",
]


async def test_every_event_goes_to_the_one_sink_in_order():
    provider = ScriptedProvider(["one", " two"])
    r = await run(pipeline({}), provider, input="x", **SLOW)
    assert r.recorder.calls == CALLS_IN_ORDER
    assert [e["seq"] for e in r.events] == [1, 2, 3, 4, 5, 6]
    assert {e["executionId"] for e in r.events} == {"exec-1"}


class AsyncRecorder(Recorder):
    """A sink that is async and slow to return: the order must hold all the same."""

    async def __call__(self, event: dict[str, Any]) -> None:  # type: ignore[override]
        for _ in range(3):
            await asyncio.sleep(0)
        self.record(event)


async def test_an_async_sink_keeps_the_order_and_run_waits_for_the_last_event():
    provider = ScriptedProvider(["one", " two"])
    recorder = AsyncRecorder()
    executor = make_executor(pipeline({}), provider, recorder, input="x", **SLOW)
    await executor.run()
    assert recorder.calls == CALLS_IN_ORDER


async def test_fan_out_gives_every_sink_every_event_in_order():
    provider = ScriptedProvider(["one", " two"], ["three"])
    first, second = Recorder(), AsyncRecorder()
    executor = make_executor(pipeline({}, {}), provider, fan_out(first, second), **SLOW)
    await executor.run()
    assert first.events == second.events
    assert [e["seq"] for e in first.events] == list(range(1, len(first.events) + 1))
    assert_wire_contract(first.events)


async def test_a_json_stage_sends_its_parsed_data_with_its_completion():
    provider = ScriptedProvider(['{"verdict": "ok"}'], ["plain"])
    r = await run(pipeline({"output": {"format": "json"}}, {}), provider)
    completed = [e for e in r.events if e["type"] == "stage:completed"]
    assert completed[0]["data"] == {"verdict": "ok"}
    assert "data" not in completed[1]  # a text stage has no data
    assert_wire_contract(r.events)


async def test_the_first_chunk_goes_out_while_the_model_is_still_thinking():
    gate = Gate()
    provider = ScriptedProvider(["first", gate, " second"])
    recorder = Recorder()
    executor = make_executor(pipeline({}), provider, recorder)
    running = asyncio.create_task(executor.run())
    await gate.wait_reached()
    assert chunks(recorder.events) == [("s1", "first", 0, False)]
    gate.open()
    outcome = await running
    assert outcome.stages["s1"].output == "first second"
    assert_wire_contract(recorder.events)


async def test_json_output_skip_if_run_if_and_early_exit():
    provider = ScriptedProvider(
        ['Here you go:\n```json\n{"verdict": "ok", ', '"score": 9}\n```'],
        ["scored 9"],
    )
    extract = [{"name": "score", "path": "score", "required": True}]
    p = pipeline(
        {"id": "judge", "output": {"format": "json", "extract": extract}},
        {"id": "fix", "skipIf": {"path": "stages.judge.data.verdict", "equals": "ok"}},
        {
            "id": "report",
            "runIf": {"path": "stages.judge.data.score", "gte": 5},
            "prompt": "score {{stages.judge.data.score}}",
            "earlyExit": {"path": "stages.report.output", "contains": "9"},
        },
        {"id": "never"},
    )
    r = await run(p, provider)
    assert_wire_contract(r.events)
    assert [(e["type"], (e.get("stage") or {}).get("id")) for e in r.events if e["type"] != "stage:output"] == [
        ("execution:started", None),
        ("stage:started", "judge"),
        ("stage:completed", "judge"),
        ("stage:skipped", "fix"),
        ("stage:started", "report"),
        ("stage:completed", "report"),
        ("stage:skipped", "never"),
        ("execution:completed", None),
    ]
    skipped = [e["reason"] for e in r.events if e["type"] == "stage:skipped"]
    assert skipped == ['skipIf met: stages.judge.data.verdict equals "ok"', "early exit after stage report"]
    assert [q.prompt for q in provider.requests] == ["prompt 1: the input", "score 9"]
    assert r.outcome.status == "early_exit"
    assert r.outcome.stages["judge"].data == {"verdict": "ok", "score": 9}
    assert r.events[-1]["result"]["status"] == "early_exit"
    summary = r.events[-1]["result"]["summary"]
    assert (summary["earlyExitStageId"], summary["finalStageId"], summary["stagesSkipped"]) == ("report", "report", 2)


async def test_run_if_not_met_says_why():
    provider = ScriptedProvider(["no"])
    p = pipeline({}, {"runIf": {"path": "stages.s1.output", "equals": "yes"}})
    r = await run(p, provider)
    assert r.recorder.calls[-2:] == [
        'skipped s2: runIf not met: stages.s1.output equals "yes"',
        "pipeline_complete success",
    ]


async def test_a_non_retryable_failure_fails_the_run_and_skips_the_rest():
    provider = ScriptedProvider(["half an ans", ProviderHTTPError("openai-compatible", 400, "bad request body")])
    r = await run(pipeline({"retries": 3}, {}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert len(provider.calls) == 1
    assert types(r.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:output",
        "stage:failed",
        "stage:skipped",
        "execution:completed",
    ]
    assert chunks(r.events) == [("s1", "half an ans", 0, False), ("s1", "", 11, True)]
    failed = r.events[4]
    assert failed["error"] == "openai-compatible: HTTP 400: bad request body"
    assert failed["code"] == "provider_http"
    assert r.events[5]["reason"] == "not run: an earlier stage failed"
    assert r.events[-1]["result"]["status"] == "failed"
    assert r.outcome.status == "failed"
    assert r.outcome.error == "stage s1 failed: openai-compatible: HTTP 400: bad request body"
    s1 = r.outcome.stages["s1"]
    assert (s1.status, s1.output, s1.error) == ("failed", "half an ans", failed["error"])
    assert "failed s1: openai-compatible: HTTP 400: bad request body | 'half an ans'" in r.recorder.calls


async def test_continue_on_error_goes_on_and_succeeds():
    provider = ScriptedProvider([ProviderHTTPError("openai-compatible", 400, "nope")], ["still here"])
    p = pipeline({"continueOnError": True}, {"prompt": "after [{{stages.s1.output}}]"})
    r = await run(p, provider)
    assert_wire_contract(r.events)
    assert r.outcome.status == "success"
    assert r.outcome.stages["s1"].status == "failed"
    assert r.outcome.stages["s2"].output == "still here"
    assert provider.requests[1].prompt == "after []"
    summary = r.events[-1]["result"]["summary"]
    assert (summary["stagesCompleted"], summary["stagesFailed"], summary["finalStageId"]) == (1, 1, "s2")


async def test_a_template_error_fails_the_stage_before_any_model_call():
    provider = ScriptedProvider()
    r = await run(pipeline({"prompt": "see {{stages.nope.output}}"}), provider)
    assert_wire_contract(r.events)
    assert provider.calls == []
    failed = next(e for e in r.events if e["type"] == "stage:failed")
    assert failed["code"] == "template"
    assert failed["error"] == 'stages[0].prompt: {{stages.nope.output}} refers to no stage "nope" (stages: s1)'
    assert chunks(r.events) == [("s1", "", 0, True)]


async def test_an_unparseable_answer_fails_the_stage_and_keeps_the_output():
    provider = ScriptedProvider(['{"other": 1}'])
    spec = {"format": "json", "extract": [{"name": "verdict", "path": "verdict", "required": True}]}
    r = await run(pipeline({"output": spec}), provider)
    failed = next(e for e in r.events if e["type"] == "stage:failed")
    assert failed["code"] == "output_parse"
    assert 'required field "verdict"' in failed["error"]
    assert output_of(r.events, "s1") == '{"other": 1}'
    assert r.outcome.stages["s1"].output == '{"other": 1}'
    assert r.outcome.status == "failed"


async def test_a_callback_that_raises_ends_the_run_as_failed():
    class Broken(Recorder):
        def react(self, event: dict[str, Any]) -> None:
            if event["type"] == "stage:started":
                raise ValueError("disk full")

    provider = ScriptedProvider(["a"], ["b"])
    recorder = Broken()
    executor = make_executor(pipeline({}, {}), provider, recorder)
    outcome = await executor.run()
    assert outcome.status == "failed"
    assert outcome.error == "event sink Broken failed: ValueError: disk full"
    assert types(recorder.events)[-1] == "execution:failed"
    assert recorder.events[-1]["error"] == outcome.error
    assert len(provider.calls) == 1  # the second stage never ran
    assert_wire_contract(recorder.events)


async def test_agent_cli_stages_share_a_temp_dir_removed_at_the_end_a_stage_cwd_wins(tmp_path):
    cwds: list[str | None] = []
    existed: list[bool] = []

    class Seen(Recorder):
        def react(self, event: dict[str, Any]) -> None:
            if event["type"] != "stage:completed":
                return
            cwd = provider.requests[-1].cwd
            cwds.append(cwd)
            existed.append(cwd is not None and os.path.isdir(cwd))

    provider = ScriptedProvider(["a"], ["b"], ["c"], ["d"])
    own = str(tmp_path / "project")
    os.mkdir(own)
    p = pipeline(
        {},
        {},
        {"model": {"cwd": own}},
        {"model": {"provider": "openai", "model": "gpt-4o-mini"}},
        defaults={"model": {"provider": "cli", "tool": "claude"}},
    )
    executor = make_executor(p, provider, Seen())
    assert (await executor.run()).status == "success"
    assert cwds[0] == cwds[1] and cwds[0] is not None
    assert os.path.basename(cwds[0]).startswith("stagecast-run-")
    assert existed[:3] == [True, True, True]
    assert not os.path.exists(cwds[0])
    assert cwds[2] == own and os.path.isdir(own)
    assert cwds[3] is None  # an API model has no use for a directory

    given = str(tmp_path / "given")
    os.mkdir(given)
    cwds.clear()
    provider.add(["e"], ["f"], ["g"], ["h"])
    executor = make_executor(p, provider, Seen(), work_dir=given)
    await executor.run()
    assert cwds[:3] == [given, given, own]
    assert os.path.isdir(given)


async def test_a_nul_from_the_model_arrives_as_a_replacement_character():
    """PostgreSQL cannot store U+0000 in text or jsonb: the engine mends it where it mends surrogates,
    so a team server keeps the run's record (found by the snapshot property test on PostgreSQL)."""
    provider = ScriptedProvider(["a\x00b", "\x00"])
    r = await run(pipeline({}), provider)
    assert output_of(r.events, "s1") == "a\ufffdb\ufffd"
    assert r.outcome.stages["s1"].output == "a\ufffdb\ufffd"
    assert_wire_contract(r.events)


async def test_reused_stages_replay_as_events_with_no_model_call():
    """A re-run's reused stages: started, their text in contract-sized chunks (a long multi-byte one is
    cut between characters), completed with reusedFrom and no cost; a reused skip stays a skip; a later
    stage's template sees the reused text and data."""
    long_text = "日本語😀" * 2000  # 26,000 bytes of UTF-8
    provider = ScriptedProvider(["fresh"])
    p = pipeline({}, {"output": {"format": "json"}}, {}, {"prompt": "{{stages.s1.output}}|{{stages.s2.data.k}}"})
    reuse = {
        "s1": ReusedStage(source="parent-1", status="completed", output=long_text, provider="p", model="m"),
        "s2": ReusedStage(source="parent-1", status="completed", output='{"k": "v"}', data={"k": "v"}),
        "s3": ReusedStage(source="parent-1", status="skipped", reason="runIf not met: input equals x"),
    }
    r = await run(p, provider, reuse=reuse)
    assert_wire_contract(r.events)
    assert len(provider.calls) == 1 and provider.requests[0].prompt == long_text + "|v"
    assert output_of(r.events, "s1") == long_text
    assert len([c for c in chunks(r.events) if c[0] == "s1"]) == 7
    completed = [e for e in r.events if e["type"] == "stage:completed"]
    assert [e["result"].get("reusedFrom") for e in completed] == ["parent-1", "parent-1", None]
    assert [e["result"]["cost"] for e in completed[:2]] == [0.0, 0.0]
    assert completed[1]["data"] == {"k": "v"}
    skipped = next(e for e in r.events if e["type"] == "stage:skipped")
    assert (skipped["stage"]["id"], skipped["reason"]) == ("s3", "runIf not met: input equals x")
    assert r.outcome.status == "success"
