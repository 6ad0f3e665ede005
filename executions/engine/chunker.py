"""Turns a model's deltas into ``stage:output`` chunks as the wire contract fixes them.

The first chunk goes out the moment the first delta arrives. After that deltas are coalesced: a
chunk goes out at most once per ``interval`` (a leading-edge throttle: a delta arriving after a quiet
spell longer than the interval goes out at once, so a slow model is not delayed; a fast one becomes
one message per interval, never one per token), or at once when ``flush_bytes`` are pending. Each
chunk is at most ``max_chunk_bytes`` of UTF-8 and is cut only between code points (as v1 did:
a combining sequence may be cut, a character never). ``offset`` counts code points.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from executions.engine.secrets import StreamMasker
from executions.engine.types import MAX_CHUNK_BYTES

DEFAULT_COALESCE_INTERVAL_MS = 25
DEFAULT_FLUSH_BYTES = 1024

#: emit(chunk, offset, is_final): called once per chunk, in order
ChunkSink = Callable[[str, int, bool], None]


def utf8_length(text: str) -> int:
    # isascii() is a flag check on CPython: most model text never pays for the encode.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def split_utf8(text: str, max_bytes: int = MAX_CHUNK_BYTES) -> list[str]:
    """``text`` in pieces of at most ``max_bytes`` UTF-8 bytes, cut only between code points.

    Empty text is one empty piece. Encodes once and cuts the bytes, backing off continuation bytes
    (10xxxxxx), so a 1 MB output costs a few C-level passes, not a Python loop per character.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4: a code point takes up to 4 bytes")
    if text.isascii():
        if len(text) <= max_bytes:
            return [text]
        return [text[i : i + max_bytes] for i in range(0, len(text), max_bytes)]
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return [text]
    pieces: list[str] = []
    start = 0
    while len(data) - start > max_bytes:
        cut = start + max_bytes
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        pieces.append(data[start:cut].decode("utf-8", "surrogatepass"))
        start = cut
    pieces.append(data[start:].decode("utf-8", "surrogatepass"))
    return pieces


class OutputChunker:
    """One stage's output stream: ``push`` each delta, ``reset`` on a retry, ``finish`` at the end.

    This is the hot path: ``push`` runs once per model token, so it only appends to a list, adds a
    byte count and arms at most one timer; joining, masking and splitting happen once per chunk.
    Runs on the event loop's thread (the timer is ``loop.call_later``).
    """

    __slots__ = (
        "_sink",
        "_interval",
        "_flush_bytes",
        "_max_chunk_bytes",
        "_masker",
        "_loop",
        "_clock",
        "_pending",
        "_pending_bytes",
        "_offset",
        "_sent_first",
        "_last_flush",
        "_timer",
        "_finished",
    )

    def __init__(
        self,
        sink: ChunkSink,
        *,
        interval_ms: float = DEFAULT_COALESCE_INTERVAL_MS,
        flush_bytes: int = DEFAULT_FLUSH_BYTES,
        max_chunk_bytes: int = MAX_CHUNK_BYTES,
        secrets: Sequence[str] = (),
        loop: asyncio.AbstractEventLoop | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._sink = sink
        self._interval = interval_ms / 1000
        self._flush_bytes = flush_bytes
        self._max_chunk_bytes = max_chunk_bytes
        self._masker = StreamMasker(secrets) if secrets else None
        self._loop = loop or asyncio.get_running_loop()
        self._clock = clock or self._loop.time
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._offset = 0
        self._sent_first = False
        self._last_flush = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._finished = False

    @property
    def offset(self) -> int:
        """Code points sent so far since the last reset."""
        return self._offset

    def push(self, text: str) -> None:
        if self._finished or not text:
            return
        self._pending.append(text)
        self._pending_bytes += utf8_length(text)
        if self._timer is not None:
            if self._pending_bytes >= self._flush_bytes:
                self._flush(False)
            return
        if not self._sent_first or self._pending_bytes >= self._flush_bytes:
            self._flush(False)
            return
        wait = self._last_flush + self._interval - self._clock()
        if wait <= 0:
            self._flush(False)
        else:
            self._timer = self._loop.call_later(wait, self._on_timer)

    def finish(self) -> None:
        """Sends what is pending; the last chunk carries ``is_final`` (an empty one when nothing is pending)."""
        if self._finished:
            return
        self._flush(True)
        self._finished = True

    def reset(self) -> None:
        """A retry voids the output so far: drop what is pending and start again at offset 0."""
        self._cancel_timer()
        self._pending.clear()
        self._pending_bytes = 0
        self._offset = 0
        self._sent_first = False
        if self._masker is not None:
            self._masker.reset()

    def close(self) -> None:
        """Stops the timer without sending anything (the run is being torn down)."""
        self._cancel_timer()
        self._finished = True

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if not self._finished:
            self._flush(False)

    def _flush(self, is_final: bool) -> None:
        self._cancel_timer()
        text = "".join(self._pending) if len(self._pending) != 1 else self._pending[0]
        self._pending.clear()
        self._pending_bytes = 0
        if self._masker is not None:
            # A delta may end partway through a key: the masker holds that part until the rest decides.
            text = self._masker.feed(text)
            if is_final:
                text += self._masker.end()
        if not text and not is_final:
            return
        self._last_flush = self._clock()
        self._sent_first = True
        pieces = split_utf8(text, self._max_chunk_bytes)
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            offset = self._offset
            self._offset += len(piece)
            self._sink(piece, offset, is_final and i == last)
