"""What drives a fake model server (tests/helpers/fake_models.py) and what it records.

A :class:`Script` says how to answer one model call; a :class:`Gate` releases deltas one at a time
from the test's thread; :class:`Call` is what the server did for one request, with timestamps.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DEFAULT_DELTAS = ("Hello", " from", " the", " fake.")
StopReason = Literal["stop", "length", "tool-calls", "content-filter", "stop-sequence"]


@dataclass(frozen=True)
class FakeUsage:
    input_tokens: int = 12
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Gate:
    """Releases deltas one at a time: the server waits for a permit before each delta of a gated script.

    ``release`` may be called from any thread (the server runs its own loop in a background thread).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._permits = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        #: permits handed out so far
        self.released = 0

    def release(self, count: int = 1) -> None:
        with self._lock:
            self.released += count
            self._permits += count
            while self._permits and self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.done():  # its client left; the permit stays for the next waiter
                    continue
                self._permits -= 1
                loop.call_soon_threadsafe(_grant, waiter)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._permits:
                self._permits -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
        await waiter


def _grant(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass
class Script:
    """How the fake answers one model call. At most one of cut_after / stall_after / error_after."""

    deltas: tuple[str, ...] | list[str] = DEFAULT_DELTAS
    #: wait before each delta after the first (a model's pace)
    interval_ms: float = 0.0
    #: wait before the first delta (time to first token)
    first_delay_ms: float = 0.0
    #: when set, the server waits for ``gate.release()`` before each delta
    gate: Gate | None = None
    #: default: 12 input tokens, one output token per delta
    usage: FakeUsage | None = None
    stop_reason: StopReason = "stop"
    #: answer with this HTTP error status instead of a stream
    status: int | None = None
    retry_after: str | None = None
    retry_after_ms: str | None = None
    error_message: str | None = None
    #: the API's error type in an error body or an in-stream error (default: the status's usual type)
    error_type: str | None = None
    #: after this many deltas, close the connection mid-body (no final events, no chunked terminator)
    cut_after: int | None = None
    #: with cut_after: end the body properly instead, still without the API's final events
    cut_clean: bool = False
    #: after this many deltas send nothing more, until the client leaves
    stall_after: int | None = None
    #: after this many deltas send the API's in-stream error event (Anthropic `event: error`)
    error_after: int | None = None
    #: extra response headers
    headers: dict[str, str] = field(default_factory=dict)

    def usage_or_default(self) -> FakeUsage:
        return self.usage or FakeUsage(output_tokens=len(self.deltas))

    @classmethod
    def parse(cls, spec: str) -> Script:
        """``"deltas=5,interval_ms=20,status=429,retry_after=2"`` (for other processes: a header, a flag).

        ``deltas=N`` means N deltas "tok0 ", "tok1 ", …; ``text=a|b|c`` gives the deltas themselves.
        """
        kwargs: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, _, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if key == "deltas":
                kwargs["deltas"] = tuple(f"tok{i} " for i in range(int(value)))
            elif key == "text":
                kwargs["deltas"] = tuple(value.split("|"))
            elif key in ("input_tokens", "output_tokens"):
                base = kwargs.get("usage") or FakeUsage()
                kwargs["usage"] = FakeUsage(**{**base.__dict__, key: int(value)})
            elif key not in types or key in ("gate", "usage", "headers"):
                raise ValueError(f"unknown script key {key!r} in {spec!r}")
            elif "float" in str(types[key]):
                kwargs[key] = float(value)
            elif "int" in str(types[key]):
                kwargs[key] = int(value)
            elif "bool" in str(types[key]):
                kwargs[key] = value.lower() in ("1", "true", "yes", "")
            else:
                kwargs[key] = value
        return cls(**kwargs)


@dataclass
class RecordedRequest:
    index: int
    method: str
    path: str
    query: str
    #: lower-cased names
    headers: dict[str, str]
    #: parsed JSON, the raw text when not JSON, None when empty
    body: Any
    #: epoch seconds
    at: float

    def api_key(self) -> str | None:
        """The key as it travelled: x-api-key, Authorization: Bearer, or x-goog-api-key."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return self.headers.get("x-goog-api-key")


@dataclass
class SentDelta:
    index: int
    text: str
    #: epoch seconds, taken just before the bytes were handed to the socket
    at: float


@dataclass
class Call:
    """One model call: its request, the script used and what happened, in the server's own time."""

    index: int
    request: RecordedRequest
    script: Script
    streaming: bool
    sent: list[SentDelta] = field(default_factory=list)
    #: when the client closed the connection before the response ended (cancel), epoch seconds
    client_closed_at: float | None = None
    #: when the server finished its side: completed, error status sent, cut, error event sent
    ended_at: float | None = None
    #: completed | http-error | cut | error-event | client-closed | server-stopped
    outcome: str | None = None

    @property
    def texts(self) -> list[str]:
        return [d.text for d in self.sent]
