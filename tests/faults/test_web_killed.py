"""Daphne stopped mid-stream (killed with -9, or restarted): viewers reconnect and lose nothing."""

from __future__ import annotations

import signal

import pytest

from tests.helpers.faults import assert_resumed_whole, fault_mid_run
from tests.helpers.stack import Stack


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "restart"])
def test_web_process_gone_mid_stream_viewers_resume_without_loss(live: Stack, sig: int) -> None:
    """What the user sees: the live output pauses while the web process is down (the run goes on in
    the worker); the page's EventSource reconnects with the last id it got and the output continues
    from exactly there — no gap, no repeated text — to the run's normal end."""
    # wait_s: the connection ended with the old process
    execution_id, before = fault_mid_run(live, 10, lambda: live.restart_web(sig), wait_s=30)
    assert_resumed_whole(live, execution_id, before)
