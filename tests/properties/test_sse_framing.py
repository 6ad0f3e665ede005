"""SSE framing of any text: each event, framed by the SSE endpoint and parsed back as a browser's
EventSource parses a stream (lines end at CRLF, LF or CR; data lines join; a message needs its blank
line), gives the exact event JSON back — whatever newlines, CRs, NULs, U+2028, lone surrogates or long
lines the model wrote, and however the bytes are split across network reads."""

from __future__ import annotations

import codecs
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from executions.live.relay import encode
from executions.live.sse import sse_frame
from executions.portal.stream import sse_message
from tests.helpers.sse_client import parse_event_stream
from tests.properties.strategies import json_values, model_text, text_with_surrogates

TYPES = [
    "execution:started",
    "stage:started",
    "stage:output",
    "stage:retrying",
    "stage:completed",
    "stage:failed",
    "execution:completed",
    "execution:failed",
    "execution:interrupted",
]

events = st.builds(
    lambda kind, seq, output, extra: {
        "type": kind,
        "executionId": "0b6d6c9e-5d4f-4b53-9a8e-1d2c3b4a5f60",
        "seq": seq,
        "ts": 1_760_000_000_000,
        "stageId": "draft",
        "output": output,
        "offset": 0,
        "isFinal": False,
        **extra,
    },
    st.sampled_from(TYPES),
    st.integers(1, 10**9),
    st.one_of(text_with_surrogates, st.integers(0, 20_000).map(lambda n: "x" * n + "\n")),
    st.dictionaries(
        st.sampled_from(["error", "reason", "input", "note"]), st.one_of(json_values, text_with_surrogates), max_size=2
    ),
)


def parse(stream: bytes) -> list[Any]:
    return parse_event_stream(stream.decode("utf-8"))


def as_browser_sees(value: Any) -> Any:
    """Strings as UTF-16 code units, as JavaScript holds them: Python's "\\ud83d\\ude00" (two code
    points) and "😀" are one and the same JS string, and a JSON round trip may turn one into the other."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass")
    if isinstance(value, list):
        return [as_browser_sees(v) for v in value]
    if isinstance(value, dict):
        return {k: as_browser_sees(v) for k, v in value.items()}
    return value


@given(events)
def test_one_frame_parses_back_to_the_exact_event(event: dict[str, Any]) -> None:
    frame = sse_frame(event)
    messages = parse(frame)  # strict UTF-8: the frame must be valid on the wire
    assert len(messages) == 1
    (message,) = messages
    assert (message.id, message.event) == (str(event["seq"]), event["type"])
    assert as_browser_sees(json.loads(message.data)) == as_browser_sees(event)


@given(st.lists(events, min_size=1, max_size=6), st.lists(st.integers(1, 5000), max_size=12))
def test_a_stream_split_anywhere_parses_back_to_every_event_in_order(
    batch: list[dict[str, Any]], reads: list[int]
) -> None:
    # As the endpoint writes it: the retry hint, frames, and keepalive comments between them.
    stream = b"retry: 1000\n\n" + b": keepalive\n\n".join(sse_frame(e) for e in batch)
    # The browser decodes each network read as it comes: a character may be split across two reads.
    decoder = codecs.getincrementaldecoder("utf-8")()
    text, at = [], 0
    for size in reads:
        text.append(decoder.decode(stream[at : at + size]))
        at += size
    text.append(decoder.decode(stream[at:], final=True))
    messages = parse_event_stream("".join(text))
    assert [m.id for m in messages] == [str(e["seq"]) for e in batch]
    assert as_browser_sees([json.loads(m.data) for m in messages]) == as_browser_sees(batch)


@given(st.lists(events, min_size=2, max_size=4), st.data())
def test_a_stream_cut_mid_frame_yields_only_the_whole_events_before_the_cut(
    batch: list[dict[str, Any]], data: Any
) -> None:
    frames = [sse_frame(e) for e in batch]
    whole = data.draw(st.integers(0, len(frames) - 1))
    cut = data.draw(st.integers(0, len(frames[whole]) - 2))  # short of the frame's blank line
    stream = b"".join(frames[:whole]) + frames[whole][:cut]
    messages = parse_event_stream(stream.decode("utf-8", "replace"))
    assert as_browser_sees([json.loads(m.data) for m in messages]) == as_browser_sees(batch[:whole])


@given(events)
def test_the_redis_encoding_reads_back_as_the_same_event(event: dict[str, Any]) -> None:
    raw = encode(event).encode("utf-8")  # redis-py encodes strictly: a lone surrogate must not reach it
    assert as_browser_sees(json.loads(raw)) == as_browser_sees(event)


@given(model_text, st.integers(1, 10**9), st.sampled_from(["out-draft", "state", "done"]))
def test_the_page_streams_html_messages_carry_any_text(html: str, seq: int, name: str) -> None:
    """The execution page's stream sends HTML fragments, one data line per line of the fragment."""
    (message,) = parse(sse_message(seq, name, html))
    assert (message.id, message.event) == (str(seq), name)
    # A CR would end a line in SSE: it travels as the character reference the page renders as CR.
    assert message.data == html.replace("\r", "&#13;")
