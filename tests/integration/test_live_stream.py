"""A run started through the API streams its events over SSE while it runs: in order, exactly once."""

from __future__ import annotations

from tests.helpers.integration import outputs_by_stage
from tests.helpers.wire import assert_wire_contract


def test_chunks_arrive_while_the_stage_runs(live):
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=40,interval_ms=25]")
    reader = live.sse(execution_id, live.tokens["alice"]).start()
    reader.wait(60)
    assert reader.status == 200
    events = reader.events
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "execution:started"
    assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
    assert_wire_contract(events)
    texts = outputs_by_stage(events)
    assert texts["first"] == "".join(f"tok{i} " for i in range(40))
    assert texts["second"] == "tok0 tok1 tok2 "
    # Several chunks of the first stage arrived before its stage:completed, spread over time.
    first_chunks = [i for i, e in enumerate(events) if e["type"] == "stage:output" and e["stageId"] == "first"]
    completed_at = next(i for i, e in enumerate(events) if e["type"] == "stage:completed")
    assert len(first_chunks) >= 5
    assert reader.arrival[completed_at] - reader.arrival[first_chunks[0]] > 0.5


def test_snapshot_and_full_output_match_the_stream(live):
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=30,interval_ms=2]")
    events = live.sse(execution_id, live.tokens["alice"]).start().wait(60).events
    texts = outputs_by_stage(events)
    status, snapshot = live.request("GET", f"/api/executions/{execution_id}", token=live.tokens["alice"])
    assert status == 200
    assert snapshot["status"] == "success"
    assert snapshot["lastSeq"] == events[-1]["seq"]
    assert [(s["id"], s["status"], s["output"]) for s in snapshot["stages"]] == [
        ("first", "completed", texts["first"]),
        ("second", "completed", texts["second"]),
    ]
    status, text = live.request(
        "GET", f"/api/executions/{execution_id}/stages/first/output", token=live.tokens["alice"]
    )
    assert (status, text) == (200, texts["first"])
