"""The SSE endpoint: every event of an execution from the viewer's cursor, then live ones.

Served by Daphne as an async Django view with a streaming response: Django cancels the generator when
the client leaves (the loop-in-``handle()`` consumer pattern never notices). The live path reads Redis
only; the database is read once to authorise, and again only to replay events the stream no longer
holds (a late joiner of a long run, or a run that ended a while ago) — never per live event, and on a
pool thread whose connection is closed at once, so an open stream pins no thread and no connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

from executions.auth import _bearer_user, api_error
from executions.engine.wire import FINAL_EVENT_TYPES
from executions.live.hub import Tail, tail_for
from executions.live.relay import async_redis, lease_key, lease_lapsed_async, stream_first_seq
from executions.selectors import events_stored_after, execution_get_for_user
from executions.services import execution_interrupt

log = logging.getLogger(__name__)

#: a comment goes out at least this often, so proxies and browsers keep the connection
HEARTBEAT_S = 14.0
BLOCK_MS = 5000
#: past this much unsent for a viewer, its stream waits for it to read (a replay from the database
#: writes far faster than any network drains: without the wait a healthy reader would be cut off)
MAX_BACKLOG_BYTES = 2 * 1024 * 1024
#: a waiting viewer reads again once its backlog is down to this
RESUME_BACKLOG_BYTES = 512 * 1024
#: a viewer that reads nothing for this long is cut off; it reconnects with its cursor, losing nothing
STALL_S = 10.0
#: how often a waiting stream looks at its viewer's backlog (only while it is over the limit)
DRAIN_POLL_S = 0.02
REPLAY_PAGE = 500
#: how long a viewer waits before looking again for events the stream lost and the database does not
#: hold yet (the worker's writer is a moment behind its publisher)
GAP_RETRY_S = 0.1


def sse_frame(event: dict[str, Any]) -> bytes:
    # json.dumps escapes \n, \r and NUL, so the data line is one line whatever the model wrote.
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    try:
        return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n".encode()
    except UnicodeEncodeError:
        # A lone UTF-16 surrogate (the engine mends model text; anything else that slipped through)
        # cannot be UTF-8: as a \u escape the browser's JSON.parse still gets the exact string back.
        data = json.dumps(event, separators=(",", ":"))
        return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n".encode()


def _stored_page(execution_id: str, after_seq: int) -> list[dict[str, Any]]:
    try:
        return events_stored_after(execution_id=execution_id, after_seq=after_seq, limit=REPLAY_PAGE)
    finally:
        connection.close()


def _interrupt_if_stale(execution_id: str) -> None:
    try:
        execution_interrupt(execution_id=execution_id)
    finally:
        connection.close()


class EventStream:
    """One viewer's stream. ``cursor`` is the seq of the last event sent; seq is checked on every
    event, so whatever the timing there is no gap and no duplicate."""

    def __init__(
        self,
        execution_id: str,
        cursor: int,
        *,
        running: bool,
        final_seq: int | None,
        backlog: Callable[[], int] | None,
    ) -> None:
        self.execution_id = execution_id
        #: the seq of an ended execution's final event: a cursor at or past it has nothing left to read
        self.final_seq = final_seq
        self.cursor = cursor
        self.running = running
        self.backlog = backlog
        self.last_write = time.monotonic()
        self.lease_misses = 0
        self._tail: Tail | None = None
        self.finished = False
        #: the viewer stopped reading and was cut off; it resumes from its cursor when it reconnects
        self.cut_off = False

    def frame(self, event: dict[str, Any]) -> bytes:
        """How one event goes on the wire: JSON here (encoded once for all this process's viewers while
        the shared tail holds it); the execution page's stream renders HTML instead."""
        return sse_frame(event) if self._tail is None else self._tail.frame(event, sse_frame)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        try:
            async for frame in self._frames():
                yield frame
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis or the database went away: end; the client resumes from its cursor
            log.warning("event stream for %s ended early", self.execution_id, exc_info=True)
        if self.cut_off:
            # Ending the response is not enough: what is buffered for a viewer that does not read stays
            # in this process until it closes its socket. Dropping the connection frees it; the viewer's
            # EventSource reconnects with the last id it parsed.
            abort = getattr(self.backlog, "abort", None)
            if abort is not None:
                abort()

    async def _frames(self) -> AsyncIterator[bytes]:
        if self.final_seq is not None and self.cursor >= self.final_seq:
            return
        reaches_back = False  # known to hold the event after the cursor (so far: not known)
        while True:
            if not reaches_back:
                first = await stream_first_seq(self.execution_id)
                if first is None or first > self.cursor + 1:
                    # The stream does not reach back to the cursor: the database holds what it lacks.
                    async for frame in self._replay_stored(upto=None if first is None else first - 1):
                        yield frame
                    if self.finished or self.cut_off:
                        return
            self._tail = tail_for(self.execution_id, self.cursor)
            events = await self._tail.read(self.cursor, BLOCK_MS)
            quiet = not events
            # A read that went on from the cursor says the stream still reaches it: no need to ask
            # again (a round trip per read per viewer) until a quiet read, when it may have been lost.
            reaches_back = bool(events) and events[0]["seq"] <= self.cursor + 1
            gap_at: int | None = None
            behind = False
            for event in events:
                seq = event["seq"]
                if seq <= self.cursor:
                    continue  # already sent (replayed from the database a moment ago)
                if seq > self.cursor + 1:
                    gap_at = seq
                    break
                self.cursor = seq
                self.last_write = time.monotonic()
                yield self.frame(event)
                if event["type"] == "execution:started":
                    self.running = True
                if event["type"] in FINAL_EVENT_TYPES:
                    return
                if self._behind():
                    behind = True
                    break
            # A viewer that is behind waits without holding the batch: the rest is read again from its cursor.
            events = []
            if behind and not await self._caught_up():
                return
            if gap_at is not None:
                # A hole in the stream: Redis restarted (losing what it held) or was away while the
                # worker published. The database holds those events, or will once the worker's writer
                # catches up; until then this viewer waits a moment rather than spin on the hole.
                before = self.cursor
                async for frame in self._replay_stored(upto=gap_at - 1):
                    yield frame
                if self.finished or self.cut_off:
                    return
                if self.cursor == before:
                    await asyncio.sleep(GAP_RETRY_S)
            if time.monotonic() - self.last_write >= HEARTBEAT_S:
                self.last_write = time.monotonic()
                yield b": keepalive\n\n"
            if quiet and self.running:
                async for frame in self._check_lease():
                    yield frame
                if self.finished or self.cut_off:
                    return

    def _behind(self) -> bool:
        """Checked after every frame (a few attribute reads): is the viewer's backlog over the limit?"""
        return self.backlog is not None and self.backlog() > MAX_BACKLOG_BYTES

    async def _caught_up(self) -> bool:
        """Waits for a viewer that is behind to read; False (and ``cut_off``) when it read nothing for
        STALL_S. Daphne gives an application no back-pressure, so this is where it comes from: the
        stream stops producing, and what one viewer costs the web process stays about the limit."""
        assert self.backlog is not None
        pending = self.backlog()
        stalled_since = time.monotonic()
        while pending > RESUME_BACKLOG_BYTES:
            await asyncio.sleep(DRAIN_POLL_S)
            now = self.backlog()
            if now < pending:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since >= STALL_S:
                log.info(
                    "viewer of %s read nothing for %.0f s (%d bytes unsent): cut off at seq %d",
                    self.execution_id,
                    STALL_S,
                    now,
                    self.cursor,
                )
                self.cut_off = True
                return False
            pending = now
        return True

    async def _replay_stored(self, upto: int | None) -> AsyncIterator[bytes]:
        while upto is None or self.cursor < upto:
            page = await sync_to_async(_stored_page, thread_sensitive=False)(self.execution_id, self.cursor)
            full = len(page) == REPLAY_PAGE
            sent = behind = False
            for event in page:
                if event["seq"] != self.cursor + 1:
                    return  # not stored yet: the live stream has it, or will
                self.cursor = event["seq"]
                self.last_write = time.monotonic()
                sent = True
                yield self.frame(event)
                if event["type"] in FINAL_EVENT_TYPES:
                    self.finished = True
                    return
                if self._behind():
                    behind = True
                    break
            page = []  # not held while a viewer that is behind waits; the next page starts at its cursor
            if behind:
                if not await self._caught_up():
                    return
                continue
            if not sent or not full:
                return

    async def _check_lease(self) -> AsyncIterator[bytes]:
        """Nothing came for BLOCK_MS while the run is running (rarely taken): is its worker alive?"""
        if await async_redis().exists(lease_key(self.execution_id)):
            self.lease_misses = 0
            return
        # No lease: the run ended (and its last events may have missed this stream, if Redis was away
        # then) or its worker died. Whatever the database holds past the cursor goes out first.
        async for frame in self._replay_stored(upto=None):
            yield frame
        if self.finished or self.cut_off:
            return
        self.lease_misses += 1
        if self.lease_misses >= 2 and await lease_lapsed_async(self.execution_id):
            self.lease_misses = 0
            await sync_to_async(_interrupt_if_stale, thread_sensitive=False)(self.execution_id)


class PrunedEventStream(EventStream):
    """An execution whose event log retention pruned (``events_pruned_at``) keeps only its final event.
    The viewer is told which seqs are gone — in an SSE comment, which EventSource ignores and a raw
    client can read — then gets that final event, so the stream still ends with exactly one final event
    and no id that was ever sent changes meaning. Every stage's output is in the snapshot."""

    async def _frames(self) -> AsyncIterator[bytes]:
        if self.final_seq is not None and self.cursor >= self.final_seq:
            return
        page = await sync_to_async(_stored_page, thread_sensitive=False)(self.execution_id, self.cursor)
        if page and page[0]["seq"] > self.cursor + 1:
            yield (
                f": events {self.cursor + 1}-{page[0]['seq'] - 1} were pruned (event retention); "
                f"GET /api/executions/{self.execution_id} has every stage's output\n\n"
            ).encode()
        for event in page:
            self.cursor = event["seq"]
            yield self.frame(event)
            if event["type"] in FINAL_EVENT_TYPES:
                return


def _authorise(request: HttpRequest, execution_id: str) -> tuple[Any, Any]:
    """(user, execution): the user False for a bad bearer token, None when nobody signed in; the
    execution None when this user may not see it. One pool thread, one connection, closed at once."""
    try:
        bearer = _bearer_user(request)
        if bearer is False:
            return False, None
        user = bearer if bearer else request.user
        if not user.is_authenticated:
            return None, None
        return user, execution_get_for_user(user=user, execution_id=execution_id)
    finally:
        close_old_connections()


async def execution_events(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    if request.method != "GET":
        return api_error(405, "method_not_allowed", "use GET")
    raw_cursor = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    try:
        cursor = int(raw_cursor)
        if cursor < 0:
            raise ValueError
    except ValueError:
        return api_error(400, "bad_cursor", "Last-Event-ID / since must be a non-negative integer (an event's seq)")
    user, execution = await sync_to_async(_authorise, thread_sensitive=False)(request, execution_id)
    if user is False:
        return api_error(401, "bad_credentials", "the bearer token is not valid")
    if user is None:
        return api_error(401, "not_authenticated", "sign in, or send Authorization: Bearer <token>")
    if execution is None:
        return api_error(404, "not_found", "no such execution")
    backlog = request.scope.get("stagecast.send_backlog") if hasattr(request, "scope") else None
    stream_class = PrunedEventStream if execution.events_pruned_at is not None else EventStream
    stream = stream_class(
        str(execution.id),
        cursor,
        running=execution.status == "running",
        final_seq=execution.last_seq if execution.is_final else None,
        backlog=backlog,
    )
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
