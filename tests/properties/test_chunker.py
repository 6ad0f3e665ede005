"""The output chunker, for any text, any split into deltas and any timing (a virtual clock): chunks of
at most 4096 UTF-8 bytes, never a split character, contiguous offsets, exactly the text when joined,
the first chunk at once, nothing held longer than the coalescing interval, and no chunk sooner than
that interval unless 1 KB (flush_bytes) was pending."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from executions.engine.chunker import OutputChunker, split_utf8, utf8_length
from executions.engine.types import MAX_CHUNK_BYTES
from tests.properties.strategies import model_text, text_with_surrogates

EPS = 1e-9


class Timer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class VirtualLoop:
    """What the chunker needs of an event loop (``call_later`` and ``time``), on a clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        #: set by the test before each thing that may emit: a push, a timer, the finish
        self.step = 0

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(self.now + delay, callback)
        heapq.heappush(self._timers, (timer.when, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Moves the clock, firing every timer that falls due on the way, at its own time."""
        target = self.now + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                self.now = when
                self.step += 1
                timer.callback()
        self.now = target


@dataclass
class Sent:
    text: str
    offset: int
    is_final: bool
    at: float
    step: int


@dataclass
class Harness:
    interval_ms: float
    flush_bytes: int
    loop: VirtualLoop = field(default_factory=VirtualLoop)
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chunker = OutputChunker(
            self.sink,
            interval_ms=self.interval_ms,
            flush_bytes=self.flush_bytes,
            loop=self.loop,
            clock=self.loop.time,  # type: ignore[arg-type]
        )

    def sink(self, text: str, offset: int, is_final: bool) -> None:
        self.sent.append(Sent(text, offset, is_final, self.loop.now, self.loop.step))

    def push(self, delta: str) -> None:
        self.loop.step += 1
        self.chunker.push(delta)

    def finish(self) -> None:
        self.loop.step += 1
        self.chunker.finish()


@st.composite
def deltas_of(draw: Any, text_strategy: Any = model_text) -> tuple[str, list[str]]:
    """A text and a split of it into deltas anywhere (between any two code points; empty deltas too)."""
    text = draw(text_strategy)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=30)))
    points = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(points)]


timings = st.lists(st.floats(0, 0.1, allow_nan=False), min_size=31, max_size=31)


def check_chunks(sent: list[Sent], text: str) -> None:
    """The wire contract of one stage's chunks."""
    assert "".join(s.text for s in sent) == text
    offset = 0
    for s in sent:
        assert s.offset == offset
        offset += len(s.text)
        assert utf8_length(s.text) == len(s.text.encode("utf-8")) <= MAX_CHUNK_BYTES
    assert [s.is_final for s in sent] == [False] * (len(sent) - 1) + [True]


@given(
    deltas_of(),
    timings,
    st.sampled_from([1.0, 16.0, 25.0, 50.0]),
    st.one_of(st.just(1024), st.integers(1, 8192)),
)
def test_any_text_any_split_any_timing_keeps_the_contract(
    split: tuple[str, list[str]], gaps: list[float], interval_ms: float, flush_bytes: int
) -> None:
    text, deltas = split
    h = Harness(interval_ms, flush_bytes)
    pushed: list[tuple[float, int]] = []  # (time, code points pushed so far) for every non-empty delta
    total = 0
    first_step: int | None = None
    for delta, gap in zip(deltas, gaps, strict=False):
        h.loop.advance(gap)
        h.push(delta)
        if delta:
            total += len(delta)
            pushed.append((h.loop.now, total))
            if first_step is None:
                first_step = h.loop.step
    h.loop.advance(gaps[-1])
    finished_at = h.loop.now
    h.finish()
    check_chunks(h.sent, text)

    # The first chunk goes out with the first delta, during that very push, and carries all of it.
    if first_step is not None:
        first = [s for s in h.sent if s.step == first_step]
        assert "".join(s.text for s in first) == next(d for d in deltas if d)

    # Nothing waits longer than the interval: each delta's last character is out by then.
    interval = interval_ms / 1000
    for at, end in pushed:
        out = next(s for s in h.sent if s.offset + len(s.text) >= end)
        assert out.at <= min(at + interval, finished_at) + EPS

    # A fast model is coalesced: apart from the first chunk and the final one, a flush comes no sooner
    # than the interval after the previous one, unless flush_bytes were pending.
    flushes = [list(g) for _, g in itertools.groupby(h.sent, key=lambda s: s.step)]
    for previous, current in itertools.pairwise(flushes):
        if current[-1].is_final:
            continue
        size = sum(utf8_length(s.text) for s in current)
        assert current[0].at - previous[0].at >= interval - EPS or size >= flush_bytes


@given(deltas_of(), deltas_of())
def test_after_a_reset_only_the_new_attempt_is_sent_from_offset_0_and_at_once(
    first: tuple[str, list[str]], second: tuple[str, list[str]]
) -> None:
    h = Harness(25.0, 1024)
    for delta in first[1]:
        h.loop.advance(0.001)
        h.push(delta)
    h.chunker.reset()
    before = len(h.sent)
    steps = []
    for delta in second[1]:
        h.loop.advance(0.001)
        h.push(delta)
        steps.append(h.loop.step)
    h.finish()
    after = h.sent[before:]
    check_chunks(after, second[0])
    nonempty = [(d, step) for d, step in zip(second[1], steps, strict=True) if d]
    if nonempty:
        delta, step = nonempty[0]
        assert "".join(s.text for s in after if s.step == step) == delta


@given(st.one_of(model_text, text_with_surrogates), st.integers(4, 5000))
def test_split_utf8_cuts_only_between_code_points_and_fills_each_piece(text: str, max_bytes: int) -> None:
    pieces = split_utf8(text, max_bytes)
    assert "".join(pieces) == text
    size = [len(p.encode("utf-8", "surrogatepass")) for p in pieces]
    assert all(n <= max_bytes for n in size)
    assert pieces == [""] if not text else all(pieces)
    # Greedy: a piece ends early only because the next code point would not fit.
    for piece, n, following in zip(pieces, size, pieces[1:], strict=False):
        assert n + len(following[0].encode("utf-8", "surrogatepass")) > max_bytes, piece[-10:]
