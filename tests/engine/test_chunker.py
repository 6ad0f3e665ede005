"""The output chunker: first chunk at once, then coalesced; ≤ 4096 bytes; never a split character."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executions.engine.chunker import OutputChunker, split_utf8, utf8_length

Chunk = tuple[str, int, bool]


def nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Collector:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self.arrived = asyncio.Event()

    def __call__(self, text: str, offset: int, is_final: bool) -> None:
        self.chunks.append((text, offset, is_final))
        self.arrived.set()

    @property
    def texts(self) -> list[str]:
        return [c[0] for c in self.chunks]

    def joined(self) -> str:
        return "".join(self.texts)


def check_contract(chunks: list[Chunk]) -> None:
    offset = 0
    for i, (text, off, is_final) in enumerate(chunks):
        assert off == offset
        assert nbytes(text) <= 4096
        assert is_final == (i == len(chunks) - 1)
        offset += len(text)


# --- utf8_length and split_utf8 ---------------------------------------------------------------------


def test_utf8_length_matches_the_encoder():
    for s in ["", "abc", "é", "€", "😀", "a😀é€\n", "\U0010ffff"]:
        assert utf8_length(s) == nbytes(s)


def test_split_keeps_a_4_byte_character_whole_at_the_boundary():
    text = "a" * 4095 + "😀" + "b"
    assert split_utf8(text, 4096) == ["a" * 4095, "😀b"]


def test_split_cuts_3_byte_characters_on_character_boundaries():
    pieces = split_utf8("€" * 3000, 4096)
    assert [nbytes(p) for p in pieces] == [4095, 4095, 810]
    assert "".join(pieces) == "€" * 3000


def test_split_ascii_and_empty():
    assert split_utf8("") == [""]
    assert split_utf8("x" * 9000, 4096) == ["x" * 4096, "x" * 4096, "x" * 808]
    with pytest.raises(ValueError):
        split_utf8("abc", 3)


@given(st.text(max_size=400), st.integers(min_value=4, max_value=64))
def test_split_property(text: str, max_bytes: int) -> None:
    pieces = split_utf8(text, max_bytes)
    assert "".join(pieces) == text
    assert all(nbytes(p) <= max_bytes for p in pieces)
    assert len(pieces) == 1 or all(pieces)


# --- OutputChunker ----------------------------------------------------------------------------------


async def test_first_chunk_goes_out_at_once_and_the_rest_waits_for_the_timer():
    out = Collector()
    chunker = OutputChunker(out, interval_ms=5)
    chunker.push("Hel")
    assert out.chunks == [("Hel", 0, False)]
    out.arrived.clear()
    chunker.push("lo")
    chunker.push(", world")
    assert len(out.chunks) == 1
    await out.arrived.wait()  # the timer's flush, not a sleep
    assert out.chunks[1] == ("lo, world", 3, False)
    chunker.finish()
    assert out.chunks[2] == ("", 12, True)
    assert len(out.chunks) == 3


async def test_a_delta_after_a_quiet_spell_goes_out_at_once():
    out, clock = Collector(), Clock()
    chunker = OutputChunker(out, interval_ms=25, clock=clock)
    chunker.push("a")
    clock.now += 0.010
    chunker.push("b")  # 10 ms after the last chunk: coalesced
    assert out.texts == ["a"]
    chunker.close()

    out, clock = Collector(), Clock()
    chunker = OutputChunker(out, interval_ms=25, clock=clock)
    chunker.push("a")
    clock.now += 0.030
    chunker.push("b")  # 30 ms after the last chunk: no reason to wait
    assert out.texts == ["a", "b"]
    chunker.finish()
    assert out.chunks == [("a", 0, False), ("b", 1, False), ("", 2, True)]


async def test_flushes_early_once_flush_bytes_are_pending():
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000, flush_bytes=8)
    chunker.push("a")
    chunker.push("1234")
    assert out.texts == ["a"]
    chunker.push("5678")
    assert out.texts == ["a", "12345678"]
    chunker.finish()
    assert out.chunks[-1] == ("", 9, True)


async def test_pending_text_goes_out_in_the_final_chunk_split_at_4096_bytes():
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000, flush_bytes=1 << 30)
    chunker.push("x")
    big = "€" * 3000  # 9000 bytes
    chunker.push(big)
    chunker.finish()
    assert [(nbytes(t), o, f) for t, o, f in out.chunks] == [
        (1, 0, False),
        (4095, 1, False),
        (4095, 1366, False),
        (810, 2731, True),
    ]
    assert out.joined() == "x" + big


async def test_reset_voids_the_output_and_the_next_chunk_starts_at_offset_0_at_once():
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000)
    chunker.push("first try")
    chunker.push(" pending")
    chunker.reset()
    chunker.push("second")
    chunker.finish()
    assert out.chunks == [("first try", 0, False), ("second", 0, False), ("", 6, True)]


async def test_close_sends_nothing_more():
    out = Collector()
    chunker = OutputChunker(out, interval_ms=1)
    chunker.push("a")
    chunker.push("b")
    chunker.close()
    chunker.push("c")
    chunker.finish()
    await asyncio.sleep(0.01)  # give a (cancelled) timer every chance to misfire
    assert out.chunks == [("a", 0, False)]


async def test_multibyte_text_and_emoji_cut_across_deltas_concatenate_exactly():
    text = "😀" * 1500 + "é" * 3000 + "日本語" * 800 + "👩‍👩‍👧 and e\u0301"
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000, flush_bytes=700)
    for i in range(0, len(text), 997):
        chunker.push(text[i : i + 997])
    chunker.finish()
    check_contract(out.chunks)
    assert out.joined() == text
    assert all("\ufffd" not in t for t in out.texts)


async def test_an_emoji_sequence_cut_across_deltas_and_at_the_4096_byte_boundary():
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # one grapheme: woman ZWJ woman ZWJ girl
    deltas = ["x", "a" * 4089, family[:2], family[2:4], family[4:], " e", "\u0301!"]
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000, flush_bytes=1 << 30)
    for d in deltas:
        chunker.push(d)
    chunker.finish()
    check_contract(out.chunks)
    # 4089 + woman (4) + ZWJ (3) is exactly 4096 bytes: the cut falls between code points, as v1 cut.
    assert out.chunks == [
        ("x", 0, False),
        ("a" * 4089 + family[:2], 1, False),
        (family[2:] + " e\u0301!", 4092, True),
    ]
    assert nbytes(out.texts[1]) == 4096
    assert out.joined() == "".join(deltas)
    for t in out.texts:
        t.encode("utf-8")  # strict: no lone surrogate, no half character


async def test_a_1_mb_output_in_small_deltas():
    rng = random.Random(7)
    alphabet = ["a", "b", " ", "\n", "é", "€", "日", "😀"]
    deltas = ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(200_000)]
    text = "".join(deltas)
    assert nbytes(text) > 1_000_000
    out = Collector()
    chunker = OutputChunker(out, interval_ms=60_000)
    for d in deltas:
        chunker.push(d)
    chunker.finish()
    check_contract(out.chunks)
    assert out.joined() == text
    # Size-triggered flushes only (the timer never fires in a synchronous loop): about 1 KB each.
    assert all(nbytes(t) < 1024 + 48 for t, _, _ in out.chunks)
    assert len(out.chunks) > 900


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=12), st.integers(min_value=1, max_value=8192))
def test_any_deltas_give_chunks_within_the_contract(deltas: list[str], flush_bytes: int) -> None:
    async def scenario() -> None:
        out = Collector()
        chunker = OutputChunker(out, interval_ms=60_000, flush_bytes=flush_bytes)
        for d in deltas:
            chunker.push(d)
        chunker.finish()
        check_contract(out.chunks)
        assert out.joined() == "".join(deltas)
        first = next((d for d in deltas if d), None)
        if first is not None:  # the first delta went out as it came (its first 4096 bytes)
            assert out.chunks[0][0] == split_utf8(first)[0]

    asyncio.run(scenario())
