"""Redis killed mid-run and started again, empty, on the same port: the run goes on and nothing is lost."""

from __future__ import annotations

from executions.worker.reaper import executions_interrupt_stale
from tests.helpers.faults import assert_new_run_works, assert_resumed_whole, fault_mid_run
from tests.helpers.stack import Stack


def test_redis_restarted_mid_run_the_run_completes_and_viewers_lose_nothing(live: Stack) -> None:
    """What the user sees: the live output pauses for as long as Redis is away (the stream's response
    ends and the page's EventSource reconnects from its last id); then it continues from exactly there
    and the run completes normally. The events the worker produced while Redis was down, and those the
    restarted Redis no longer holds, come from the database: no gap, no repeat. The run is not taken for
    dead although its lease went with the old Redis, and new runs are picked up once Celery has
    reconnected to the new broker."""

    def restart() -> None:
        live.restart_redis(down_s=1.0)
        # Every lease went with the old Redis, and this worker renews its own within moments: the
        # reaper, run right now, must not mark the live run interrupted.
        assert executions_interrupt_stale() == []

    execution_id, before = fault_mid_run(live, 20, restart, wait_s=60)
    assert_resumed_whole(live, execution_id, before)
    # The worker did meet the outage (this is not a run that slipped between the two Redis processes).
    live.wait_worker_log("cannot publish to Redis")
    live.wait_worker_log("Redis answers again")
    assert_new_run_works(live)
