"""The project's fake Anthropic server (tests/helpers/fake_models.py) as a process of its own, with the
large outputs the benchmarks need.

Run in its own process so that its pacing timers are not slowed by the benchmark's viewers, which
share the benchmark process's interpreter (and its GIL). A prompt steers each call:

- ``[fake:deltas=N,interval_ms=M]`` — the project's own spec (N small deltas "tok0 ", "tok1 ", …);
- ``<<bench:bytes=N,delta=D,interval_ms=M>>`` — N bytes of numbered 100-character lines in deltas of
  D bytes, M ms apart (0: as fast as the socket takes them). The project's spec cannot say this
  without a prompt as large as the answer.

Usage: ``python -m bench.fake_model`` prints the URL the SDK wants on its first line, then serves until
SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from tests.helpers.fake_models import FakeModelServer, RecordedRequest, Script, serve_until_signalled

BENCH_MARKER = re.compile(r"<<bench:([^>]*)>>")
LINE = 100


def bench_marker(*, size: int, delta: int = 4096, interval_ms: float = 0) -> str:
    return f"<<bench:bytes={size},delta={delta},interval_ms={interval_ms:g}>>"


def numbered_text(size: int) -> str:
    """``size`` bytes (ASCII) of numbered lines, so a text cut or repeated anywhere is easy to spot."""
    lines = (f"line {i:08d} " + "x" * (LINE - 15) + "\n" for i in range(size // LINE + 1))
    return "".join(lines)[:size]


@lru_cache(maxsize=8)
def answer_deltas(size: int, delta: int = 4096) -> tuple[str, ...]:
    """``size`` bytes of numbered lines, cut into deltas of ``delta`` bytes."""
    text = numbered_text(size)
    return tuple(text[i : i + delta] for i in range(0, len(text), delta))


def pick(record: RecordedRequest) -> Script:
    raw = json.dumps(record.body) if not isinstance(record.body, str) else record.body
    match = BENCH_MARKER.search(raw or "")
    if match is None:
        return Script(deltas=("Hello", " from", " the", " fake."))
    spec = dict(item.split("=", 1) for item in match[1].split(","))
    deltas = answer_deltas(int(spec["bytes"]), int(spec.get("delta", 4096)))
    return Script(deltas=deltas, interval_ms=float(spec.get("interval_ms", 0)))


def main() -> None:
    serve_until_signalled(FakeModelServer("anthropic", default=pick))


if __name__ == "__main__":
    main()
