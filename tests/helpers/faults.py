"""What the fault tests share: a viewer that reconnects as a browser's EventSource does, the check that
nothing streamed was lost, a viewer that stops reading, and a database write lock held from the test.

``assert_kept`` is the heart of every fault test: after the fault, the run's text as it was streamed
live, the snapshot (``GET /api/executions/<id>``), the full output route and a replay from seq 0 all
agree, and the replay is the very sequence the live viewer saw.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from tests.helpers.integration import outputs_by_stage
from tests.helpers.sse_client import SSEMessage, parse_event_stream
from tests.helpers.stack import Stack

FINAL_TYPES = frozenset({"execution:completed", "execution:cancelled", "execution:failed", "execution:interrupted"})
#: the snapshot carries at most this much of a stage's output (selectors.SNAPSHOT_OUTPUT_CHARS)
SNAPSHOT_CHARS = 100 * 1024

ONE_STAGE = """
id: {id}
name: Fault {id}
stages:
  - id: only
    name: Only
    model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }}
    prompt: "{{{{input}}}}"
    retries: {retries}
"""

TWO_STAGES = """
id: {id}
name: Fault {id}
stages:
  - id: first
    name: First
    model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }}
    prompt: "{{{{input}}}}"
    retries: {retries}
  - id: second
    name: Second
    model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }}
    prompt: "second [fake:deltas=3] {{{{stages.first.output}}}}"
"""


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


# --- a viewer that reconnects -----------------------------------------------------------------------


@dataclass
class Followed:
    """What a browser's EventSource saw of one execution, across every connection it needed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    #: responses that ended (cleanly or not) before the final event, each followed by a reconnect
    reconnects: int = 0


def follow(
    live: Stack,
    execution_id: str,
    token: str,
    *,
    seen: list[dict[str, Any]] | None = None,
    timeout: float = 120.0,
) -> Followed:
    """Reads the execution's events to the final one as EventSource does: when a response ends (or the
    server is unreachable), it reconnects after the server's ``retry`` delay with ``Last-Event-ID`` set
    to the last id it received. ``seen``: events an earlier connection already got. Checks on the way
    that no seq is skipped or repeated."""
    followed = Followed(events=list(seen or []))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cursor = followed.events[-1]["seq"] if followed.events else None
        try:
            reader = live.sse(execution_id, token, last_event_id=cursor).start()
        except OSError:
            # Refused or reset while the web process is down: EventSource waits its retry delay (the
            # protocol's own reconnection time, 1 s from the server's "retry:"), then tries again.
            time.sleep(1.0)
            followed.reconnects += 1
            continue
        reader.ended.wait(max(0.0, deadline - time.monotonic()))
        got = reader.events
        reader.close()
        first = (cursor or 0) + 1
        assert seqs(got) == list(range(first, first + len(got))), f"after {cursor}: {seqs(got)[:5]}…"
        followed.events.extend(got)
        if followed.events and followed.events[-1]["type"] in FINAL_TYPES:
            return followed
        followed.reconnects += 1
        time.sleep((reader.retry_ms or 1000) / 1000)
    raise TimeoutError(f"no final event for {execution_id} within {timeout} s ({len(followed.events)} events)")


# --- nothing streamed is lost -----------------------------------------------------------------------


def assert_kept(
    live: Stack,
    execution_id: str,
    streamed: list[dict[str, Any]],
    *,
    status: str,
    stages: list[tuple[str, str, str]],
) -> dict[str, Any]:
    """After a fault: the streamed events are whole (seq 1…n, one final event, last); each stage's
    text from its chunks, the snapshot, the full output route and a replay from seq 0 agree; ``stages``
    is ``[(stage id, stage status, text)]``. Returns the snapshot."""
    token = live.tokens["alice"]
    assert seqs(streamed) == list(range(1, len(streamed) + 1))
    assert [e["type"] in FINAL_TYPES for e in streamed].count(True) == 1
    assert streamed[-1]["type"] in FINAL_TYPES
    texts = outputs_by_stage(streamed)
    for stage_id, _, text in stages:
        assert texts.get(stage_id, "") == text, f"stage {stage_id}: the streamed chunks differ from the expected text"

    code, snapshot = live.request("GET", f"/api/executions/{execution_id}", token=token)
    assert code == 200, snapshot
    assert (snapshot["status"], snapshot["lastSeq"]) == (status, streamed[-1]["seq"])
    assert [(s["id"], s["status"]) for s in snapshot["stages"]] == [(sid, st) for sid, st, _ in stages]
    for stage, (stage_id, _, text) in zip(snapshot["stages"], stages, strict=True):
        assert (stage["outputLength"], stage["outputTruncated"]) == (len(text), len(text) > SNAPSHOT_CHARS)
        assert stage["output"] == text[-SNAPSHOT_CHARS:], f"stage {stage_id}: the snapshot's output differs"
        code, full = live.request("GET", f"/api/executions/{execution_id}/stages/{stage_id}/output", token=token)
        assert (code, len(full)) == (200, len(text))
        assert full == text, f"stage {stage_id}: the full output route differs"

    replay = live.sse(execution_id, token, since=0).start().wait(120)
    assert replay.error is None, replay.error
    assert replay.events == streamed, "a replay from seq 0 differs from what was streamed live"
    return snapshot


# --- a run the fault lands in the middle of ----------------------------------------------------------

#: what the first stage of ``[fake:deltas=300,…]`` streams
TOKENS_300 = "".join(f"tok{i} " for i in range(300))


def fault_mid_run(
    live: Stack, interval_ms: int, fault: Callable[[], None], *, wait_s: float
) -> tuple[str, list[dict[str, Any]]]:
    """Starts a two-stage run of 300 tokens, lets a viewer get 20 events, runs ``fault`` and waits up to
    ``wait_s`` for that viewer's response to end. Returns the run's id and what the viewer got, which
    must stop short of the end (else the fault came too late to prove anything)."""
    token = live.tokens["alice"]
    execution_id = live.run(token, f"[fake:deltas=300,interval_ms={interval_ms}]")
    reader = live.sse(execution_id, token).start()
    reader.wait_for(20, timeout=60)
    fault()
    reader.wait(wait_s)
    before = reader.events
    assert before[-1]["type"] != "execution:completed", "the run ended before the fault"
    return execution_id, before


def assert_resumed_whole(live: Stack, execution_id: str, before: list[dict[str, Any]]) -> None:
    """A viewer that got ``before`` reconnects as EventSource does and follows the run to its normal end;
    together its events hold both stages' whole text, with no gap and no repeat."""
    seen = follow(live, execution_id, live.tokens["alice"], seen=before)
    assert seen.events[-1]["result"]["status"] == "success"
    assert_kept(
        live,
        execution_id,
        seen.events,
        status="success",
        stages=[("first", "completed", TOKENS_300), ("second", "completed", "tok0 tok1 tok2 ")],
    )


def assert_new_run_works(live: Stack) -> None:
    """After the fault, a new run is picked up and completes."""
    token = live.tokens["alice"]
    after = follow(live, live.run(token, "[fake:deltas=4]"), token, timeout=90).events
    assert (after[-1]["type"], after[-1]["result"]["status"]) == ("execution:completed", "success")
    assert outputs_by_stage(after)["first"] == "tok0 tok1 tok2 tok3 "


# --- a viewer that stops reading --------------------------------------------------------------------


class StalledViewer:
    """A raw socket that asks for an execution's events and then reads nothing, like a frozen tab.

    Its receive buffer is made small before it connects, so the server cannot park the stream in this
    socket's kernel buffer: whatever the viewer does not read stays on the server's side."""

    def __init__(self, live: Stack, execution_id: str, token: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", live.web_port))
        request = (
            f"GET /api/executions/{execution_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.received = b""
        #: how the connection ended when finally read: "reset", "closed" or "open" (still open)
        self.ending = ""

    def read_all(self, timeout: float) -> StalledViewer:
        """Reads everything the server left for this viewer, until it closed or reset the connection,
        or nothing came for ``timeout`` seconds (then the connection is still open)."""
        self.sock.settimeout(timeout)
        chunks: list[bytes] = []
        try:
            while data := self.sock.recv(1 << 20):
                chunks.append(data)
            self.ending = "closed"
        except ConnectionResetError:
            self.ending = "reset"
        except TimeoutError:
            self.ending = "open"
        self.received = b"".join(chunks)
        self.sock.close()
        return self

    def messages(self) -> tuple[list[SSEMessage], bool]:
        """The events it received, parsed as EventSource does, and whether the response was complete."""
        head, _, body = self.received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        assert b"transfer-encoding: chunked" in head.lower(), head
        payload, complete = dechunk(body)
        return parse_event_stream(payload.decode("utf-8", "replace")), complete


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """HTTP/1.1 chunked transfer coding, tolerating a body cut anywhere: (payload, ended properly)."""
    out: list[bytes] = []
    pos = 0
    while True:
        line_end = body.find(b"\r\n", pos)
        if line_end < 0:
            return b"".join(out), False
        size = int(body[pos:line_end].split(b";")[0], 16)
        start = line_end + 2
        if size == 0:
            return b"".join(out), body[start : start + 2] == b"\r\n"
        out.append(body[start : start + size])
        if start + size + 2 > len(body):
            return b"".join(out), False
        pos = start + size + 2


class PeakRSS:
    """Samples a process's resident memory in a thread while a test runs; ``peak_kb`` is the highest."""

    def __init__(self, live: Stack, every_s: float = 0.05) -> None:
        self.live = live
        self.every_s = every_s
        self.start_kb = live.web_rss_kb()
        self.peak_kb = self.start_kb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak_kb = max(self.peak_kb, self.live.web_rss_kb())

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.start_kb) / 1024


# --- the database, locked from the test -------------------------------------------------------------


def lock_support() -> str | None:
    """Why this database cannot be write-locked from a test, or None when it can."""
    vendor = connection.vendor
    return None if vendor in ("sqlite", "postgresql") else f"no write lock for the {vendor} backend"


@contextmanager
def database_write_lock() -> Iterator[None]:
    """Holds a lock that stops every other process writing the run's rows, while reads go on.

    SQLite: an exclusive transaction on a connection of its own (in WAL mode readers are not blocked).
    PostgreSQL: ``LOCK TABLE … IN EXCLUSIVE MODE`` on the event and execution tables (reads allowed).
    The lock is taken before the block runs and released when it leaves."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        raw = sqlite3.connect(settings["NAME"], timeout=30, isolation_level=None)
        try:
            raw.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                raw.execute("ROLLBACK")
        finally:
            raw.close()
        return
    import psycopg

    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
    ) as raw:
        with raw.transaction():
            raw.execute("LOCK TABLE executions_executionevent, executions_execution IN EXCLUSIVE MODE")
            yield
