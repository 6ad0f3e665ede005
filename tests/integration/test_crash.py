"""Crashes: a worker killed mid-run leaves an interrupted execution with its output; a web process
restarted mid-stream costs its viewers nothing."""

from __future__ import annotations

import os
import signal
import time

from executions.models import Execution
from tests.helpers.integration import outputs_by_stage


def wait_status(execution_id: str, status: str, timeout: float) -> Execution:
    deadline = time.monotonic() + timeout
    while True:
        execution = Execution.objects.get(pk=execution_id)
        if execution.status == status or time.monotonic() > deadline:
            return execution
        time.sleep(0.2)


def test_worker_killed_mid_run_becomes_interrupted_with_its_output(live):
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=2000,interval_ms=10]")
    reader = live.sse(execution_id, token).start()
    live.fake.wait_sent(30, timeout=60)
    killed_at = time.monotonic()
    os.killpg(live.worker.pid, signal.SIGKILL)
    live.worker.wait(10)
    events = reader.wait(60).events
    execution = wait_status(execution_id, "interrupted", 30)
    took = time.monotonic() - killed_at
    assert execution.status == "interrupted", execution.status
    assert took < 30, f"interrupted after {took:.1f} s"
    assert events[-1]["type"] == "execution:interrupted"
    assert "worker" in events[-1]["reason"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    streamed = outputs_by_stage(events)["first"]
    assert streamed.startswith("tok0 tok1 tok2 ")
    first = execution.stages.get(stage_id="first")
    assert (first.status, first.output) == ("cancelled", streamed)
    assert execution.stages.get(stage_id="second").status == "cancelled"
    live.restart_worker()


def test_web_restart_mid_stream_viewers_resume_without_loss(live):
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=300,interval_ms=10]")
    reader = live.sse(execution_id, token).start()
    reader.wait_for(20, timeout=60)
    live.restart_web()
    reader.ended.wait(10)  # the old connection ended with the old process
    before = reader.events
    rest = live.sse(execution_id, token, last_event_id=before[-1]["seq"]).start().wait(60).events
    combined = before + rest
    assert [e["seq"] for e in combined] == list(range(1, len(combined) + 1))
    assert combined[-1]["type"] == "execution:completed"
    assert outputs_by_stage(combined)["first"] == "".join(f"tok{i} " for i in range(300))
