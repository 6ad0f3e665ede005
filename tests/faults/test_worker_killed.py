"""kill -9 of the Celery worker mid-stream: the run ends ``interrupted`` and keeps every chunk it streamed."""

from __future__ import annotations

import os
import signal

from tests.helpers.faults import assert_kept, assert_new_run_works, follow
from tests.helpers.integration import outputs_by_stage
from tests.helpers.stack import Stack


def test_worker_killed_mid_stream_the_run_is_interrupted_and_keeps_its_output(live: Stack) -> None:
    """What the user sees: the output stops growing mid-stage; within about 25 s (the lease lapses and
    the reaper, or the open stream itself, notices) the run turns "interrupted" with a reason that names
    the worker. Every chunk already shown stays: the stage is "cancelled" with exactly that text in the
    snapshot, the full output and a replay; the stage that never ran is "cancelled" and empty. A new
    run works as soon as a worker is back."""
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=2000,interval_ms=10]")
    reader = live.sse(execution_id, token).start()
    live.fake.wait_sent(30, timeout=60)
    os.killpg(live.worker.pid, signal.SIGKILL)
    live.worker.wait(10)
    # The model call died with the worker's process.
    live.fake.wait_closed(timeout=30)
    reader.wait(90)
    seen = follow(live, execution_id, token, seen=reader.events, timeout=90)

    final = seen.events[-1]
    assert final["type"] == "execution:interrupted"
    assert "worker" in final["reason"]
    streamed = outputs_by_stage(seen.events)["first"]
    assert streamed.startswith("tok0 tok1 tok2 ")
    snapshot = assert_kept(
        live,
        execution_id,
        seen.events,
        status="interrupted",
        stages=[("first", "cancelled", streamed), ("second", "cancelled", "")],
    )
    assert snapshot["error"] == final["reason"]

    live.restart_worker()
    assert_new_run_works(live)
