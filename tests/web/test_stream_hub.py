"""The shared tail (executions/stream_hub.py): one Redis reader per execution for all of a process's
viewers, on a real Redis server; viewers behind its window, and its failures, fall back to what every
viewer did before."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from executions.live import hub as stream_hub
from executions.live.hub import active_tails, tail_for
from executions.live.relay import EventPublisher
from executions.live.sse import sse_frame


def event(execution_id: str, seq: int, kind: str = "stage:output") -> dict[str, Any]:
    return {"executionId": execution_id, "seq": seq, "ts": 0, "type": kind, "stageId": "s", "output": f"<{seq}>"}


@pytest.fixture
def execution_id(redis_url: str) -> str:
    return str(uuid.uuid4())


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cursor of every XREAD made through the hub (the tail's own and any viewer's fallback)."""
    cursors: list[int] = []
    real = stream_hub.read_stream

    async def counted(execution_id: str, after_seq: int, **kwargs: Any) -> list[dict[str, Any]]:
        cursors.append(after_seq)
        return await real(execution_id, after_seq, **kwargs)

    monkeypatch.setattr(stream_hub, "read_stream", counted)
    return cursors


async def follow(execution_id: str, cursor: int, until: int) -> list[int]:
    seen: list[int] = []
    while cursor < until:
        for e in await tail_for(execution_id, cursor).read(cursor, 5000):
            assert e["seq"] == cursor + 1, "a viewer gets every event once, in order"
            seen.append(e["seq"])
            cursor = e["seq"]
    return seen


async def publish(execution_id: str, seqs: range, last_kind: str = "stage:output") -> None:
    publisher = EventPublisher(execution_id)
    for seq in seqs:
        kind = last_kind if seq == seqs[-1] else "stage:output"
        await asyncio.to_thread(publisher.publish, event(execution_id, seq, kind))
        await asyncio.sleep(0.002)


async def test_ten_viewers_share_one_reader_and_it_stops_after_the_final_event(execution_id, reads):
    viewers = [asyncio.create_task(follow(execution_id, 0, 30)) for _ in range(10)]
    await asyncio.sleep(0.05)
    await publish(execution_id, range(1, 31), last_kind="execution:completed")
    assert await asyncio.gather(*viewers) == [list(range(1, 31))] * 10
    # One read per batch for all ten (each viewer alone would have made at least one per event).
    assert len(reads) <= 31
    await asyncio.sleep(0.05)
    assert active_tails() == 0


async def test_a_viewer_behind_the_window_reads_redis_itself(execution_id, reads, monkeypatch):
    monkeypatch.setattr(stream_hub, "WINDOW_EVENTS", 4)
    live = asyncio.create_task(follow(execution_id, 0, 10))
    await asyncio.sleep(0.05)
    await publish(execution_id, range(1, 11))
    await live
    tail = tail_for(execution_id, 10)
    assert list(tail.seqs) == [7, 8, 9, 10]
    assert await follow(execution_id, 0, 10) == list(range(1, 11))
    assert 0 in reads[1:], "the late viewer's own read, from its cursor"


async def test_the_frame_of_an_event_is_encoded_once(execution_id):
    viewer = asyncio.create_task(follow(execution_id, 0, 1))
    await asyncio.sleep(0.05)
    await publish(execution_id, range(1, 2))
    await viewer
    tail = tail_for(execution_id, 1)
    first = tail.frame(tail.events[0], sse_frame)
    assert tail.frame(dict(tail.events[0]), sse_frame) is first
    assert first == sse_frame(event(execution_id, 1))


async def test_a_tail_nobody_reads_from_stops(execution_id, monkeypatch):
    monkeypatch.setattr(stream_hub, "IDLE_S", 0.1)
    monkeypatch.setattr(stream_hub, "TAIL_BLOCK_MS", 50)
    assert await tail_for(execution_id, 0).read(0, 20) == []
    assert active_tails() == 1
    await asyncio.sleep(0.4)
    assert active_tails() == 0


async def test_when_redis_fails_the_tail_its_waiting_viewers_get_the_error(execution_id, monkeypatch):
    async def broken(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        await asyncio.sleep(0.05)
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(stream_hub, "read_stream", broken)
    waiting = [asyncio.create_task(tail_for(execution_id, 0).read(0, 5000)) for _ in range(3)]
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert active_tails() == 0  # the next viewer starts a new one
