"""Daphne stopped mid-stream (killed with -9, or restarted): viewers reconnect and lose nothing."""

from __future__ import annotations

import signal

import pytest

from tests.helpers.faults import assert_kept, follow
from tests.helpers.stack import Stack

TOKENS_300 = "".join(f"tok{i} " for i in range(300))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "restart"])
def test_web_process_gone_mid_stream_viewers_resume_without_loss(live: Stack, sig: int) -> None:
    """What the user sees: the live output pauses while the web process is down (the run goes on in
    the worker); the page's EventSource reconnects with the last id it got and the output continues
    from exactly there — no gap, no repeated text — to the run's normal end."""
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=300,interval_ms=10]")
    reader = live.sse(execution_id, token).start()
    reader.wait_for(20, timeout=60)
    live.restart_web(sig)
    reader.wait(30)  # the connection ended with the old process
    before = reader.events
    assert before[-1]["type"] != "execution:completed", "the run ended before the web process went away"

    seen = follow(live, execution_id, token, seen=before)
    assert seen.events[-1]["result"]["status"] == "success"
    assert_kept(
        live,
        execution_id,
        seen.events,
        status="success",
        stages=[("first", "completed", TOKENS_300), ("second", "completed", "tok0 tok1 tok2 ")],
    )
