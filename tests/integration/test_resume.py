"""Resume: late joiners, reconnects with Last-Event-ID at random points, and replay after the stream
has expired (from the database) — every viewer ends with the identical event sequence."""

from __future__ import annotations

import random

import redis

from executions.live.relay import stream_key


def full_sequence(live, execution_id: str) -> list[dict]:
    return live.sse(execution_id, live.tokens["alice"]).start().wait(60).events


def test_late_joiner_and_reconnects_get_the_identical_sequence(live):
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=60,interval_ms=15]")
    token = live.tokens["alice"]
    first = live.sse(execution_id, token).start()
    first.wait_for(10)
    # Reconnect several times from random cursors, as a browser does after a dropped connection.
    rng = random.Random(7)
    pieces: list[dict] = []
    cursor = 0
    while True:
        reader = live.sse(execution_id, token, last_event_id=cursor if cursor else None).start(
            stop_after=rng.randint(3, 12)
        )
        reader.wait(60)
        reader.close()
        got = reader.events
        assert [e["seq"] for e in got] == list(range(cursor + 1, cursor + 1 + len(got)))
        pieces.extend(got)
        cursor = got[-1]["seq"] if got else cursor
        if pieces and pieces[-1]["type"].startswith("execution:") and pieces[-1]["type"] != "execution:started":
            break
    whole = first.wait(60).events
    late = live.sse(execution_id, token, since=0).start().wait(60).events
    assert pieces == whole == late


def test_since_parameter_resumes_after_that_seq(live):
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=10,interval_ms=1]")
    whole = full_sequence(live, execution_id)
    tail = live.sse(execution_id, live.tokens["alice"], since=5).start().wait(30).events
    assert tail == whole[5:]


def test_replay_after_the_stream_expired_comes_from_the_database(live):
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=25,interval_ms=1]")
    whole = full_sequence(live, execution_id)
    redis.Redis.from_url(live.redis_url).delete(stream_key(execution_id))
    assert live.sse(execution_id, live.tokens["alice"]).start().wait(30).events == whole
    middle = len(whole) // 2
    assert live.sse(execution_id, live.tokens["alice"], last_event_id=middle).start().wait(30).events == whole[middle:]
    # A cursor at the end of an ended execution gets nothing, and the response ends at once.
    assert live.sse(execution_id, live.tokens["alice"], since=len(whole)).start().wait(10).events == []


def test_twenty_viewers_on_each_of_five_executions_see_identical_streams(live):
    token = live.tokens["alice"]
    ids = [live.run(token, f"[fake:deltas=30,interval_ms=10] run {i}") for i in range(5)]
    readers = {eid: [live.sse(eid, token).start() for _ in range(20)] for eid in ids}
    for group in readers.values():
        sequences = [r.wait(90).events for r in group]
        assert all(s == sequences[0] for s in sequences)
        assert [e["seq"] for e in sequences[0]] == list(range(1, len(sequences[0]) + 1))
        assert sequences[0][-1]["type"] == "execution:completed"
