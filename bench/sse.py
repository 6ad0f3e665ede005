"""Cheap SSE viewers: raw asyncio sockets, a thousand of them in one process.

Written by hand rather than with an SSE library because a viewer here must cost almost nothing (the
fan-out runs 1,000 in one event loop, beside the benchmark) and must see the bytes as they arrive,
with their arrival time, which client libraries hide behind their own buffering.

A :class:`Viewer` follows one execution's ``/api/executions/<id>/events`` from its cursor and checks
every event as it arrives: seq exactly last + 1 (else a duplicate or a gap), a chunk's ``offset``
exactly the stage's length so far. When the response ends before the final event (a viewer cut off
as too slow, a restart), it reconnects with ``Last-Event-ID`` as the portal's page does, and counts it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from executions.engine.wire import FINAL_EVENT_TYPES

FINAL_TYPES = FINAL_EVENT_TYPES
READ_SIZE = 65536

#: called on each stage:output with (arrival epoch seconds, seq, stage id, the stage's length after it)
OnOutput = Callable[[float, int, str, int], None]


class StreamEnded(Exception):
    """The response ended (or the connection closed) before the final event."""


@dataclass
class Viewer:
    port: int
    token: str
    execution_id: str
    since: int = 0
    on_output: OnOutput | None = None
    #: keep the (arrival, seq) of every event, for latency
    record: bool = False

    received: int = 0
    last_seq: int = 0
    duplicates: int = 0
    gaps: int = 0
    offset_errors: int = 0
    reconnects: int = 0
    final_seq: int | None = None
    final_type: str | None = None
    status: int | None = None
    error: str | None = None
    bytes_read: int = 0
    #: time.monotonic() when the first response's headers arrived
    connected_at: float | None = None
    lengths: dict[str, int] = field(default_factory=dict)
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    #: the ts and type of each event the viewer kept (only with ``record``)
    events: list[dict[str, Any]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def lost(self) -> int:
        return -1 if self.final_seq is None else self.final_seq - self.received

    async def run(self, *, timeout: float = 600.0, max_reconnects: int = 20) -> Viewer:
        deadline = time.monotonic() + timeout
        while self.final_seq is None:
            try:
                await asyncio.wait_for(self._once(), max(0.1, deadline - time.monotonic()))
            except (StreamEnded, ConnectionResetError, BrokenPipeError):
                if self.reconnects >= max_reconnects:
                    self.error = f"gave up after {self.reconnects} reconnects"
                    return self
                self.reconnects += 1
            except TimeoutError:
                self.error = f"no final event within {timeout:.0f} s (last seq {self.last_seq})"
                return self
            except OSError as err:
                self.error = f"{type(err).__name__}: {err}"
                return self
        return self

    async def _once(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            cursor = self.last_seq or self.since
            head = (
                f"GET /api/executions/{self.execution_id}/events HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{self.port}\r\nAccept: text/event-stream\r\n"
                f"Authorization: Bearer {self.token}\r\n" + (f"Last-Event-ID: {cursor}\r\n" if cursor else "") + "\r\n"
            )
            writer.write(head.encode())
            await self._read(reader)
        finally:
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            raw_head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as err:
            raise StreamEnded from err
        lines = raw_head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if self.status != 200:
            raise OSError(f"HTTP {self.status}")
        if self.connected_at is None:
            self.connected_at = time.monotonic()
        self.connected.set()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        body = bytearray()  # raw bytes not yet de-chunked
        sse = bytearray()  # de-chunked bytes not yet parsed into messages
        while True:
            data = await reader.read(READ_SIZE)
            at = time.time()
            if not data:
                raise StreamEnded
            self.bytes_read += len(data)
            if chunked:
                body += data
                ended = _dechunk(body, sse)
            else:
                sse += data
                ended = False
            if self._messages(sse, at):
                return
            if ended:
                raise StreamEnded

    def _messages(self, sse: bytearray, at: float) -> bool:
        """Parses every complete message; True once the final event is in."""
        start = 0
        while (end := sse.find(b"\n\n", start)) >= 0:
            block = bytes(sse[start:end])
            start = end + 2
            data = None
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    data = line[6:]
            if data is not None and self._event(json.loads(data), at):
                del sse[:start]
                return True
        del sse[:start]
        return False

    def _event(self, event: dict[str, Any], at: float) -> bool:
        seq = event["seq"]
        if seq <= self.last_seq:
            self.duplicates += 1
            return False
        if seq != self.last_seq + 1:
            self.gaps += 1
        self.last_seq = seq
        self.received += 1
        kind = event["type"]
        if self.record:
            self.arrivals.append((at, seq))
            self.events.append({"seq": seq, "type": kind, "ts": event["ts"]})
        if kind == "stage:retrying":
            self.lengths[event["stageId"]] = 0
        elif kind == "stage:output":
            stage = event["stageId"]
            length = self.lengths.get(stage, 0)
            if event["offset"] != length:
                self.offset_errors += 1
            length = event["offset"] + len(event["output"])
            self.lengths[stage] = length
            if self.on_output is not None:
                self.on_output(at, seq, stage, length)
        if kind in FINAL_TYPES:
            self.final_seq = seq
            self.final_type = kind
            return True
        return False


def _dechunk(body: bytearray, out: bytearray) -> bool:
    """Moves every complete chunk of ``body`` to ``out``; True when the terminating chunk was seen."""
    pos = 0
    ended = False
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            break
        size = int(bytes(body[pos:eol]).split(b";")[0], 16)
        if size == 0:
            ended = True
            pos = len(body)
            break
        if len(body) < eol + 2 + size + 2:
            break
        out += body[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    del body[:pos]
    return ended


async def watch(port: int, token: str, execution_id: str, *, since: int = 0, timeout: float = 600.0) -> Viewer:
    """Follows one execution to its final event (a convenience for 'wait until it has ended')."""
    return await Viewer(port, token, execution_id, since=since, record=True).run(timeout=timeout)
