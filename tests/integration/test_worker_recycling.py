"""A pool process whose memory passed STAGECAST_WORKER_MAX_MEMORY_MB is replaced after its run: the run
it was on completes, the next one runs in a fresh process, and nothing is lost (the C heap of a pool
process keeps ~0.2 MB per 1 MB of output it streamed: BENCHMARKS.md, Findings 2)."""

from __future__ import annotations

import time

from bench.common import children
from tests.helpers.faults import follow
from tests.helpers.integration import outputs_by_stage
from tests.helpers.processes import start_worker, stop
from tests.helpers.stack import Stack


def test_a_pool_process_over_its_memory_limit_is_replaced_after_its_run(live: Stack) -> None:
    token = live.tokens["alice"]
    stop(live.worker)
    # One pool process, and every process is over 1 MB: it is replaced after each run.
    live.worker = start_worker({**live.env, "STAGECAST_WORKER_MAX_MEMORY_MB": "1"}, concurrency=1, beat=False)
    try:
        ran_in: list[int] = []
        for _ in range(2):
            [pool] = children(live.worker.pid)
            ran_in.append(pool)
            execution_id = live.run(token, "[fake:deltas=5]")
            events = follow(live, execution_id, token, timeout=90).events
            assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
            assert outputs_by_stage(events)["first"] == "tok0 tok1 tok2 tok3 tok4 "
            deadline = time.monotonic() + 30
            while pool in children(live.worker.pid) or not children(live.worker.pid):
                assert time.monotonic() < deadline, "the pool process was not replaced after its run"
                time.sleep(0.05)
        assert ran_in[0] != ran_in[1]
    finally:
        live.restart_worker()
