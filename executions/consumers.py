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
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from .auth import _bearer_user, api_error
from .events import async_redis, lease_key, read_stream, stream_first_seq
from .reaper import execution_interrupt
from .selectors import events_stored_after, execution_get_for_user

log = logging.getLogger(__name__)

FINAL_TYPES = frozenset({"execution:completed", "execution:cancelled", "execution:failed", "execution:interrupted"})
#: a comment goes out at least this often, so proxies and browsers keep the connection
HEARTBEAT_S = 14.0
BLOCK_MS = 5000
#: a viewer whose unsent backlog passes this is cut off; it reconnects with its cursor and loses nothing
MAX_BACKLOG_BYTES = 2 * 1024 * 1024
REPLAY_PAGE = 500


def sse_frame(event: dict[str, Any]) -> bytes:
    # json.dumps escapes \n, \r and NUL, so the data line is one line whatever the model wrote.
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
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
        self.finished = False

    def frame(self, event: dict[str, Any]) -> bytes:
        """How one event goes on the wire: JSON here; the execution page's stream renders HTML instead."""
        return sse_frame(event)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        try:
            async for frame in self._frames():
                yield frame
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis or the database went away: end; the client resumes from its cursor
            log.warning("event stream for %s ended early", self.execution_id, exc_info=True)

    async def _frames(self) -> AsyncIterator[bytes]:
        if self.final_seq is not None and self.cursor >= self.final_seq:
            return
        while True:
            first = await stream_first_seq(self.execution_id)
            if first is None or first > self.cursor + 1:
                async for frame in self._replay_stored(upto=None if first is None else first - 1):
                    yield frame
                if self.finished:
                    return
            events = await read_stream(self.execution_id, self.cursor, block_ms=BLOCK_MS)
            for event in events:
                seq = event["seq"]
                if seq <= self.cursor:
                    continue  # already sent (replayed from the database a moment ago)
                if seq > self.cursor + 1:
                    break  # a gap: the stream dropped what the database holds; replay it first
                self.cursor = seq
                self.last_write = time.monotonic()
                yield self.frame(event)
                if event["type"] == "execution:started":
                    self.running = True
                if event["type"] in FINAL_TYPES:
                    return
            if self.backlog is not None and self.backlog() > MAX_BACKLOG_BYTES:
                log.info("viewer of %s too slow (backlog %d bytes): cut off", self.execution_id, self.backlog())
                return
            if time.monotonic() - self.last_write >= HEARTBEAT_S:
                self.last_write = time.monotonic()
                yield b": keepalive\n\n"
            if not events and self.running:
                await self._check_lease()

    async def _replay_stored(self, upto: int | None) -> AsyncIterator[bytes]:
        while upto is None or self.cursor < upto:
            page = await sync_to_async(_stored_page, thread_sensitive=False)(self.execution_id, self.cursor)
            sent = False
            for event in page:
                if event["seq"] != self.cursor + 1:
                    return  # not stored yet: the live stream has it, or will
                self.cursor = event["seq"]
                self.last_write = time.monotonic()
                sent = True
                yield self.frame(event)
                if event["type"] in FINAL_TYPES:
                    self.finished = True
                    return
            if not sent or len(page) < REPLAY_PAGE:
                return

    async def _check_lease(self) -> None:
        """A run whose worker died stops renewing its lease: end it as interrupted (rarely taken)."""
        if await async_redis().exists(lease_key(self.execution_id)):
            self.lease_misses = 0
            return
        self.lease_misses += 1
        if self.lease_misses >= 2:
            self.lease_misses = 0
            await sync_to_async(_interrupt_if_stale, thread_sensitive=False)(self.execution_id)


def _authorise(request: HttpRequest, execution_id: str, bearer: Any) -> tuple[Any, Any]:
    try:
        user = bearer if bearer else request.user
        if not user.is_authenticated:
            return None, None
        return user, execution_get_for_user(user=user, execution_id=execution_id)
    finally:
        close_old_connections()


async def execution_events(request: HttpRequest, execution_id: str) -> HttpResponse:
    if request.method != "GET":
        return api_error(405, "method_not_allowed", "use GET")
    raw_cursor = request.headers.get("Last-Event-ID") or request.GET.get("since") or "0"
    try:
        cursor = int(raw_cursor)
        if cursor < 0:
            raise ValueError
    except ValueError:
        return api_error(400, "bad_cursor", "Last-Event-ID / since must be a non-negative integer (an event's seq)")
    bearer = await sync_to_async(_bearer_user, thread_sensitive=False)(request)
    if bearer is False:
        return api_error(401, "bad_credentials", "the bearer token is not valid")
    user, execution = await sync_to_async(_authorise, thread_sensitive=False)(request, execution_id, bearer)
    if user is None:
        return api_error(401, "not_authenticated", "sign in, or send Authorization: Bearer <token>")
    if execution is None:
        return api_error(404, "not_found", "no such execution")
    backlog = request.scope.get("stagecast.send_backlog") if hasattr(request, "scope") else None
    stream = EventStream(
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
