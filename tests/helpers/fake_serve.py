"""How a fake model server answers: one :class:`Responder` per server, run on the server's own loop.

It records each request, picks the script, and writes the API's frames as the script says: deltas at
the script's pace or gate, an HTTP error, a cut, a stall or an in-stream error — and notices a client
that leaves mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from tests.helpers.fake_http import Connection, Request
from tests.helpers.fake_script import Call, RecordedRequest, SentDelta
from tests.helpers.fake_wire import Ctx

if TYPE_CHECKING:
    from tests.helpers.fake_models import FakeModelServer


class Responder:
    def __init__(self, server: FakeModelServer) -> None:
        self.server = server
        self.wire = server.wire

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.server.tasks.add(task)
        conn = Connection(reader, writer)
        try:
            while (request := await conn.read_request()) is not None:
                if not await self.respond(conn, request) or not request.keep_alive:
                    break
        except (ConnectionError, ValueError, EOFError, asyncio.CancelledError):
            pass  # a client gone mid-request, a malformed request, or the server stopping
        finally:
            self.server.tasks.discard(task)
            conn.close()

    async def respond(self, conn: Connection, request: Request) -> bool:
        """Answers one request; False when the connection must close (a cut, a client gone)."""
        body = request.json_body()
        record = RecordedRequest(
            len(self.server.requests), request.method, request.path, request.query, request.headers, body, time.time()
        )
        self.server.requests.append(record)
        self.server.notify()
        route = self.wire.route(request.method, request.path, request.query, body)
        if route is None:
            message = f"fake {self.server.kind}: no such endpoint {request.method} {request.path}"
            await conn.send_json(404, self.wire.error_body(404, None, message), head=request.method == "HEAD")
            return True
        if route.model is None:
            await conn.send_json(route.status, route.json)
            return True
        try:
            script = self.server.pick_script(record, request.raw_body, route.stream)
        except ValueError as err:  # a bad spec in x-fake-script or [fake:…]: say so instead of hanging up
            await conn.send_json(400, self.wire.error_body(400, None, f"fake {self.server.kind}: {err}"))
            return True
        call = Call(len(self.server.calls), record, script, route.stream)
        self.server.calls.append(call)
        self.server.notify({"event": "request", "call": call.index, "path": request.path, "at": record.at})
        ctx = Ctx(route.model, body if isinstance(body, dict) else {}, f"fake_{call.index}", script.usage_or_default())
        if script.status is not None:
            headers = {**script.headers, "request-id": f"req_{ctx.id}"}
            if script.retry_after is not None:
                headers["retry-after"] = script.retry_after
            if script.retry_after_ms is not None:
                headers["retry-after-ms"] = script.retry_after_ms
            message = script.error_message or f"fake error {script.status}"
            error = self.wire.error_body(script.status, script.error_type, message)
            self.end(call, "http-error")  # before the write, as every outcome (see stream's end)
            await conn.send_json(script.status, error, headers)
            return True
        if not route.stream:
            self.end(call, "completed")
            await conn.send_json(200, self.wire.whole(ctx, "".join(script.deltas), script.stop_reason))
            return True
        return await self.stream(conn, call, ctx)

    async def stream(self, conn: Connection, call: Call, ctx: Ctx) -> bool:
        conn.write_head(
            200,
            {
                "content-type": "text/event-stream; charset=utf-8",
                "cache-control": "no-cache",
                "transfer-encoding": "chunked",
                "connection": "keep-alive",
                "request-id": f"req_{ctx.id}",
                "x-request-id": f"req_{ctx.id}",
                **call.script.headers,
            },
        )
        produce = asyncio.ensure_future(self.produce(conn, call, ctx))
        watch = asyncio.ensure_future(conn.wait_peer_closed())
        try:
            await asyncio.wait({produce, watch}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            produce.cancel()
            self.end(call, "server-stopped")
            raise
        finally:
            watch.cancel()
            # The next request on this connection reads the same stream: the watcher must be gone first.
            await asyncio.gather(watch, return_exceptions=True)
        if produce.done() and not produce.cancelled():
            error = produce.exception()
            if error is None:
                return produce.result()
            if not isinstance(error, ConnectionError):
                raise error  # a bug in the fake itself: let the test see it
        produce.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await produce
        call.client_closed_at = time.time()
        self.end(call, "client-closed")
        return False

    async def produce(self, conn: Connection, call: Call, ctx: Ctx) -> bool:
        s = call.script
        for frame in self.wire.start(ctx):
            conn.write_chunk(frame)
        await conn.writer.drain()
        stops = [n for n in (s.cut_after, s.stall_after, s.error_after) if n is not None]
        limit = min([len(s.deltas), *stops])
        for index, text in enumerate(list(s.deltas)[:limit]):
            if s.gate is not None:
                await s.gate.wait()
            delay = s.first_delay_ms if index == 0 else s.interval_ms
            if delay:
                await asyncio.sleep(delay / 1000)
            # Recorded just before the write: the client (another thread) may hold the delta before this
            # coroutine runs again, and a test comparing what it got with what was sent must never see less.
            at = time.time()
            call.sent.append(SentDelta(index, text, at))
            conn.write_chunk(self.wire.delta(ctx, text, index))
            await conn.writer.drain()
            self.server.notify({"event": "delta", "call": call.index, "index": index, "at": at})
        if s.stall_after is not None and s.stall_after == limit:
            await asyncio.Event().wait()  # until the client leaves (this task is cancelled) or the server stops
        # Each outcome is recorded before its last write, as the deltas are: the client (another thread)
        # may have the end and be done with it before this coroutine runs again.
        if s.cut_after is not None and s.cut_after == limit:
            self.end(call, "cut")
            if s.cut_clean:
                await conn.end_chunked()
                return True
            conn.close()  # FIN without the chunked terminator: the client sees a body cut short
            return False
        if s.error_after is not None and s.error_after == limit:
            self.end(call, "error-event")
            conn.write_chunk(self.wire.stream_error(ctx, s.error_type, s.error_message or "Overloaded"))
            await conn.end_chunked()
            return True
        self.end(call, "completed")
        for frame in self.wire.finish(ctx, s.stop_reason):
            conn.write_chunk(frame)
        await conn.end_chunked()
        return True

    def end(self, call: Call, outcome: str) -> None:
        if call.outcome is None:
            call.outcome = outcome
            call.ended_at = time.time()
            self.server.notify({"event": outcome, "call": call.index, "at": call.ended_at})
