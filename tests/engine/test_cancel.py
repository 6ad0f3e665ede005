"""cancel(): the model call stops at once, output so far is kept, execution:cancelled is the one final event."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from executions.engine.errors import ProviderHTTPError
from tests.helpers.engine import make_executor, pipeline
from tests.helpers.scripted_provider import Gate, ScriptedProvider
from tests.helpers.wire import Recorder, assert_wire_contract, chunks, types

SLOW = {"coalesce_interval_ms": 60_000}


async def test_cancel_mid_stream_stops_the_provider_at_once_and_keeps_the_output():
    gate = Gate()
    provider = ScriptedProvider(["a", "b", gate, "never sent"], ["second stage"])
    recorder = Recorder()
    executor = make_executor(pipeline({}, {}), provider, recorder, **SLOW)
    running = asyncio.create_task(executor.run())
    await gate.wait_reached()
    executor.cancel()
    outcome = await running
    assert provider.calls[0].ended == "CancelledError"
    assert len(provider.calls) == 1
    assert outcome.status == "cancelled" and outcome.error == "cancelled by user"
    assert (outcome.stages["s1"].status, outcome.stages["s1"].output) == ("cancelled", "ab")
    assert outcome.stages["s2"].status == "pending"
    assert_wire_contract(recorder.events)
    assert types(recorder.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:output",
        "execution:cancelled",
    ]
    assert chunks(recorder.events) == [("s1", "a", 0, False), ("s1", "b", 1, True)]
    assert recorder.events[-1]["reason"] == "cancelled by user"
    assert recorder.calls[-1] == "pipeline_complete cancelled"


async def test_a_provider_paused_between_deltas_is_closed_with_generator_exit():
    release = asyncio.Event()

    class SlowConsumer(Recorder):
        """An async consumer far behind the model: the runner waits for it (backpressure), not for the
        provider, so the cancel reaches the runner outside the provider's generator."""

        async def __call__(self, event: dict[str, Any]) -> None:  # type: ignore[override]
            self.record(event)
            if event["type"] == "stage:output" and event["output"] == "a":
                executor.cancel("stop")
                await release.wait()

    # flush_bytes=1: every delta is a chunk, so the backlog passes its limit within the first few hundred.
    provider = ScriptedProvider(["a", *["x"] * 400])
    recorder = SlowConsumer()
    executor = make_executor(pipeline({}), provider, recorder, flush_bytes=1)
    running = asyncio.create_task(executor.run())
    await provider.wait_calls(1)
    await provider.calls[0].ended_event.wait()
    assert provider.calls[0].ended == "GeneratorExit"
    release.set()
    outcome = await running
    assert outcome.status == "cancelled" and outcome.error == "stop"
    sent = outcome.stages["s1"].output
    assert sent.startswith("ax") and set(sent[1:]) == {"x"} and len(sent) < 401
    assert_wire_contract(recorder.events)


async def test_cancel_during_the_retry_wait_ends_at_once():
    class CancelOnRetry(Recorder):
        def react(self, event: dict[str, Any]) -> None:
            if event["type"] == "stage:retrying":
                executor.cancel("enough")

    provider = ScriptedProvider(["lost", ProviderHTTPError("openai-compatible", 503, "busy", retry_after=3600)])
    recorder = CancelOnRetry()
    executor = make_executor(pipeline({"retries": 3}), provider, recorder, **SLOW)
    async with asyncio.timeout(5):  # a failure here would otherwise wait the hour
        outcome = await executor.run()
    assert outcome.status == "cancelled" and outcome.error == "enough"
    assert len(provider.calls) == 1
    assert (outcome.stages["s1"].status, outcome.stages["s1"].output) == ("cancelled", "")
    assert_wire_contract(recorder.events)
    assert types(recorder.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:retrying",
        "stage:output",
        "execution:cancelled",
    ]
    assert chunks(recorder.events) == [("s1", "lost", 0, False), ("s1", "", 0, True)]


async def test_cancel_before_run_means_no_model_call():
    provider = ScriptedProvider()
    recorder = Recorder()
    executor = make_executor(pipeline({}), provider, recorder)
    executor.cancel("changed my mind")
    outcome = await executor.run()
    assert provider.calls == []
    assert outcome.status == "cancelled" and outcome.stages["s1"].status == "pending"
    assert types(recorder.events) == ["execution:started", "execution:cancelled"]
    assert recorder.events[-1]["reason"] == "changed my mind"


async def test_cancel_racing_the_last_stage_completion_gives_one_final_event():
    class CancelAtTheEnd(Recorder):
        def react(self, event: dict[str, Any]) -> None:
            if event["type"] == "stage:completed":
                executor.cancel()

    provider = ScriptedProvider(["done"])
    recorder = CancelAtTheEnd()
    executor = make_executor(pipeline({}), provider, recorder)
    outcome = await executor.run()
    assert outcome.status == "cancelled"
    assert outcome.stages["s1"].status == "completed"  # what finished stays finished
    assert_wire_contract(recorder.events)
    assert types(recorder.events)[-2:] == ["stage:completed", "execution:cancelled"]


async def test_cancel_after_the_end_changes_nothing():
    provider = ScriptedProvider(["done"])
    recorder = Recorder()
    executor = make_executor(pipeline({}), provider, recorder)
    outcome = await executor.run()
    executor.cancel()
    await asyncio.sleep(0)
    assert outcome.status == "success"
    assert types(recorder.events)[-1] == "execution:completed"
    assert [e["type"] for e in recorder.events].count("execution:completed") == 1
    assert len(recorder.events) == 6


async def test_cancel_from_another_thread():
    gate = Gate()
    provider = ScriptedProvider(["x", gate])
    recorder = Recorder()
    executor = make_executor(pipeline({}), provider, recorder)
    running = asyncio.create_task(executor.run())
    await gate.wait_reached()
    thread = threading.Thread(target=executor.cancel, args=("from a thread",))
    thread.start()
    outcome = await running
    thread.join()
    assert outcome.status == "cancelled" and outcome.error == "from a thread"
    assert provider.calls[0].ended == "CancelledError"
    assert types(recorder.events)[-1] == "execution:cancelled"


async def test_cancelling_the_task_running_run_still_ends_with_one_final_event():
    gate = Gate()
    provider = ScriptedProvider(["x", gate])
    recorder = Recorder()
    executor = make_executor(pipeline({}), provider, recorder)
    running = asyncio.create_task(executor.run())
    await gate.wait_reached()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert provider.calls[0].ended == "CancelledError"
    assert types(recorder.events)[-1] == "execution:cancelled"
    assert executor.outcome is not None and executor.outcome.status == "cancelled"
    assert executor.outcome.stages["s1"].output == "x"
    assert_wire_contract(recorder.events)
