"""A viewer of a pruned execution: the snapshot still has every stage's output; the event stream says
which events are gone (an SSE comment), then sends the final event it kept and ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from executions.live.relay import stream_key, sync_redis
from executions.services import execution_events_prune
from tests.helpers.integration import outputs_by_stage


def test_a_pruned_run_streams_its_final_event_after_saying_what_was_pruned(live):
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=30,interval_ms=2]")
    full = live.sse(execution_id, token).start().wait(60).events
    texts = outputs_by_stage(full)
    # The live stream expires 5 minutes after the end; the database is then the only source.
    sync_redis().delete(stream_key(execution_id))
    later = datetime.now(UTC) + timedelta(days=8)
    assert execution_events_prune(older_than_days=7, now=later).executions == 1

    reader = live.sse(execution_id, token).start().wait(30)
    last = full[-1]["seq"]
    assert reader.status == 200
    assert reader.events == [full[-1]]  # the very event first sent: seq, ts, result
    assert reader.comments == [
        f"events 1-{last - 1} were pruned (event retention); GET /api/executions/{execution_id} "
        "has every stage's output"
    ]
    assert [m.id for m in reader.messages] == [str(last)]
    # Resuming past the end: nothing, and the response ends.
    assert live.sse(execution_id, token, last_event_id=last).start().wait(30).events == []
    # Resuming mid-way: told what is gone from there on, then the final event.
    assert last > 4
    mid = live.sse(execution_id, token, last_event_id=2).start().wait(30)
    assert (mid.events, mid.comments[0].split(" were")[0]) == ([full[-1]], f"events 3-{last - 1}")

    status, snapshot = live.request("GET", f"/api/executions/{execution_id}", token=token)
    assert status == 200
    assert (snapshot["status"], snapshot["lastSeq"]) == ("success", last)
    assert snapshot["eventsPrunedAt"] is not None
    assert [(s["id"], s["output"]) for s in snapshot["stages"]] == [
        ("first", texts["first"]),
        ("second", texts["second"]),
    ]
    status, text = live.request("GET", f"/api/executions/{execution_id}/stages/first/output", token=token)
    assert (status, text) == (200, texts["first"])
