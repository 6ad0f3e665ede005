"""One reader of an execution's Redis stream per web process, shared by every viewer of it there.

Ten viewers of a run used to make ten ``XREAD``s per batch, and decode and encode every event ten times:
in the web process that was most of what a viewer cost (benchmarks, "Overhead"), and Redis did the same
work ten times. Now the first viewer of an execution starts a :class:`Tail`, whose task reads the stream
and keeps the latest events (a small window, by count and by bytes); viewers at or near the live end
take their events from it, each checking seq as before (``EventStream``), and the JSON frame of an event
is encoded once. A viewer behind the window, or of a run the tail has finished with, reads Redis itself,
as every viewer did before: the tail is only a shortcut, never the record.

A tail stops when its run's final event has gone by, when Redis fails it (its waiting viewers then get
that error, as from their own read), or when no viewer has asked it for anything for ``IDLE_S``.
Tails belong to the event loop that made them (Daphne's one loop; a test's own).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from django.conf import settings

from executions.engine.wire import FINAL_EVENT_TYPES
from executions.live.relay import read_stream

#: the window a tail keeps: at most this many events and about this many bytes of output in them
WINDOW_EVENTS = 256
WINDOW_BYTES = 64 * 1024
#: a tail nobody has read from for this long stops (a viewer asks at least every BLOCK_MS)
IDLE_S = 10.0
#: how long the tail's own XREAD blocks before it looks whether anybody still watches
TAIL_BLOCK_MS = 2000
READ_COUNT = 500

_tails: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Tail]] = weakref.WeakKeyDictionary()


class Tail:
    def __init__(self, execution_id: str, after_seq: int, forget: Callable[[Tail], None]) -> None:
        self.execution_id = execution_id
        #: every event up to this seq has been read by the tail
        self.read_to = after_seq
        self.seqs: deque[int] = deque()
        self.events: deque[dict[str, Any]] = deque()
        self.frames: dict[int, bytes] = {}
        self.bytes = 0
        self.error: BaseException | None = None
        self.done = False
        self.last_asked = time.monotonic()
        self._batch = asyncio.Event()
        self._forget = forget
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"tail {execution_id}")

    async def _run(self) -> None:
        try:
            while time.monotonic() - self.last_asked < IDLE_S:
                events = await read_stream(self.execution_id, self.read_to, block_ms=TAIL_BLOCK_MS, count=READ_COUNT)
                if events:
                    self._add(events)
                    if events[-1]["type"] in FINAL_EVENT_TYPES:
                        break
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - Redis went away: the viewers waiting on it learn it
            self.error = err
        finally:
            self.done = True
            self._forget(self)
            self._batch.set()

    def _add(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            size = len(event.get("output") or "")
            self.seqs.append(event["seq"])
            self.events.append(event)
            self.bytes += size
        self.read_to = events[-1]["seq"]
        while len(self.events) > WINDOW_EVENTS or (self.bytes > WINDOW_BYTES and len(self.events) > 1):
            old = self.events.popleft()
            self.frames.pop(self.seqs.popleft(), None)
            self.bytes -= len(old.get("output") or "")
        batch, self._batch = self._batch, asyncio.Event()
        batch.set()

    def _after(self, after_seq: int) -> list[dict[str, Any]] | None:
        """The window's events after ``after_seq``; None when the window does not reach back to it."""
        if not self.seqs or self.seqs[0] > after_seq + 1 or after_seq >= self.read_to:
            return None
        start = bisect.bisect_right(self.seqs, after_seq)
        return list(itertools.islice(self.events, start, start + READ_COUNT))

    async def read(self, after_seq: int, block_ms: int) -> list[dict[str, Any]]:
        """Events after ``after_seq`` (as ``events.read_stream``), waiting up to ``block_ms`` for one."""
        self.last_asked = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + block_ms / 1000
        while True:
            found = self._after(after_seq)
            if found is not None:
                return found
            if self.error is not None:
                raise self.error
            if after_seq < self.read_to or self.done:
                # Behind the window, or the tail has stopped: this viewer reads for itself.
                return await read_stream(self.execution_id, after_seq, block_ms=block_ms)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(self._batch.wait(), remaining)
            except TimeoutError:
                return []

    def frame(self, event: dict[str, Any], encode: Callable[[dict[str, Any]], bytes]) -> bytes:
        """The event's frame, encoded once for every viewer while the window holds it."""
        seq = event["seq"]
        cached = self.frames.get(seq)
        if cached is None:
            cached = encode(event)
            if self.seqs and self.seqs[0] <= seq <= self.read_to:
                self.frames[seq] = cached
        return cached


def _registry() -> dict[tuple[str, str], Tail]:
    loop = asyncio.get_running_loop()
    tails = _tails.get(loop)
    if tails is None:
        tails = _tails[loop] = {}
    return tails


def tail_for(execution_id: str, after_seq: int) -> Tail:
    """This loop's tail of the execution, started (reading from ``after_seq``) if there is none."""
    tails = _registry()
    key = (execution_id, settings.REDIS_URL)
    tail = tails.get(key)
    if tail is None or tail.done:

        def forget(t: Tail) -> None:
            if tails.get(key) is t:
                del tails[key]

        tail = tails[key] = Tail(execution_id, after_seq, forget)
    return tail


def active_tails() -> int:
    """How many executions this loop's process is reading for its viewers (for tests and benchmarks)."""
    return len(_registry())
