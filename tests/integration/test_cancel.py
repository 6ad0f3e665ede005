"""Cancel through the API: the worker stops the model call at once, keeps the output, ends cancelled."""

from __future__ import annotations

import time

from executions.models import Execution


def test_cancel_mid_stream_closes_the_model_connection_at_once(live):
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=400,interval_ms=20]")
    reader = live.sse(execution_id, token).start()
    live.fake.wait_sent(10, timeout=60)
    asked = time.time()
    status, body = live.request("POST", f"/api/executions/{execution_id}/cancel", token=token, body={})
    assert status == 202, body
    live.fake.wait_closed(timeout=10)
    # The 100 ms budget is measured by the benchmarks (bench/), not here: timings flake on a shared
    # machine. This proves the call was cut, not finished: 400 deltas would take 8 s.
    assert live.fake.calls[-1].client_closed_at - asked < 5
    assert len(live.fake.calls[-1].sent) < 400
    events = reader.wait(30).events
    assert events[-1]["type"] == "execution:cancelled"
    assert events[-1]["reason"] == "cancelled by alice"
    streamed = "".join(e["output"] for e in events if e["type"] == "stage:output")
    assert streamed and "tok0 " in streamed
    execution = Execution.objects.get(pk=execution_id)
    assert execution.status == "cancelled"
    first = execution.stages.get(stage_id="first")
    assert (first.status, first.output) == ("cancelled", streamed)
    assert execution.stages.get(stage_id="second").status == "cancelled"
    # A final status is never overwritten: a second cancel is refused.
    status, body = live.request("POST", f"/api/executions/{execution_id}/cancel", token=token, body={})
    assert (status, body["error"]["code"]) == (409, "not_running")


def test_a_queued_execution_is_cancelled_before_it_starts(live):
    token = live.tokens["alice"]
    live.worker and live.worker.send_signal(19)  # SIGSTOP: the run stays queued
    try:
        execution_id = live.run(token, "[fake:deltas=3]")
        status, _ = live.request("POST", f"/api/executions/{execution_id}/cancel", token=token, body={})
        assert status == 202
    finally:
        live.worker.send_signal(18)  # SIGCONT
    events = live.sse(execution_id, token).start().wait(30).events
    assert [(e["seq"], e["type"]) for e in events] == [(1, "execution:cancelled")]
    live.wait_worker_log(f"execution {execution_id} is not queued any more")
    execution = Execution.objects.get(pk=execution_id)
    assert execution.status == "cancelled"
    assert execution.started_at is None
    assert not [c for c in live.fake.calls if "deltas=3]" in str(c.request.body)]
