"""Redis killed mid-run and started again, empty, on the same port: the run goes on and nothing is lost."""

from __future__ import annotations

from executions.reaper import executions_interrupt_stale
from tests.helpers.faults import assert_kept, follow
from tests.helpers.integration import outputs_by_stage
from tests.helpers.stack import Stack

TOKENS_300 = "".join(f"tok{i} " for i in range(300))


def test_redis_restarted_mid_run_the_run_completes_and_viewers_lose_nothing(live: Stack) -> None:
    """What the user sees: the live output pauses for as long as Redis is away (the stream's response
    ends and the page's EventSource reconnects from its last id); then it continues from exactly there
    and the run completes normally. The events the worker produced while Redis was down, and those the
    restarted Redis no longer holds, come from the database: no gap, no repeat. The run is not taken for
    dead although its lease went with the old Redis, and new runs are picked up once Celery has
    reconnected to the new broker."""
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=300,interval_ms=20]")
    reader = live.sse(execution_id, token).start()
    reader.wait_for(20, timeout=60)

    live.restart_redis(down_s=1.0)
    # Every lease went with the old Redis, and this worker renews its own within moments: the reaper,
    # run right now, must not mark the live run interrupted.
    assert executions_interrupt_stale() == []
    reader.wait(60)
    before = reader.events
    assert before[-1]["type"] != "execution:completed", "the run ended before Redis went away"

    seen = follow(live, execution_id, token, seen=before)
    assert seen.events[-1]["result"]["status"] == "success"
    assert_kept(
        live,
        execution_id,
        seen.events,
        status="success",
        stages=[("first", "completed", TOKENS_300), ("second", "completed", "tok0 tok1 tok2 ")],
    )
    # The worker did meet the outage (this is not a run that slipped between the two Redis processes).
    live.wait_worker_log("cannot publish to Redis")
    live.wait_worker_log("Redis answers again")

    again = live.run(token, "[fake:deltas=4]")
    after = follow(live, again, token, timeout=90).events
    assert (after[-1]["type"], after[-1]["result"]["status"]) == ("execution:completed", "success")
    assert outputs_by_stage(after)["first"] == "tok0 tok1 tok2 tok3 "
