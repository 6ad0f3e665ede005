"""Re-run from the last stage: how soon the stage being iterated on shows its first token, against a
full run of the same pipeline — measured in one run, so the machine's load weighs on both alike.

``bench-five``: five stages, each answered by the fake model with 20 deltas 25 ms apart (about 0.5 s a
stage). A full run's stage ``five`` starts after four stages; a re-run ``fromStage: five`` replays the
four from the parent (no model call) and calls the model for ``five`` alone. The figure is the time
from the request (POST) to the first text of stage ``five`` (the event's own ``ts``), and the ratio
re-run / full run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .common import median, run_alone
from .stack import Stack, stack
from .streams import stream_events

NAME = "rerun"
TITLE = "Re-run from the last stage (time to its first token, vs a full run)"
MARKER = "[fake:deltas=20,interval_ms=25]"
LAST = "five"


async def first_token_of_last_stage(s: Stack, execution_id: str, posted_at: float) -> tuple[float, int]:
    """(ms from the POST to stage five's first text, how many stages ran their model: not reused)."""
    first: float | None = None
    called = 0
    async for _, event in stream_events(s.redis_url, execution_id):
        kind = event["type"]
        if kind == "stage:output" and event["stageId"] == LAST and event["output"] and first is None:
            first = event["ts"] / 1000 - posted_at
        elif kind == "stage:completed" and "reusedFrom" not in event["result"]:
            called += 1
        elif kind.startswith("execution:") and kind != "execution:started":
            if event.get("result", {}).get("status") != "success":
                raise RuntimeError(f"{execution_id} ended {kind} {event}")
    if first is None:
        raise RuntimeError(f"{execution_id}: stage {LAST} streamed no text")
    return first * 1000, called


async def one_pair(s: Stack) -> dict[str, float]:
    posted = time.time()
    parent = await s.arun("bench-five", MARKER)
    full_ms, full_called = await asyncio.wait_for(first_token_of_last_stage(s, parent, posted), 120)
    posted = time.time()
    status, body = await asyncio.to_thread(s.request, "POST", f"/api/executions/{parent}/rerun", {"fromStage": LAST})
    if status != 202:
        raise RuntimeError(f"rerun: {status} {body}")
    rerun_ms, rerun_called = await asyncio.wait_for(first_token_of_last_stage(s, body["executionId"], posted), 120)
    if (full_called, rerun_called) != (5, 1):
        raise RuntimeError(f"model calls: full run {full_called}, re-run {rerun_called} (expected 5 and 1)")
    return {"full_ms": full_ms, "rerun_ms": rerun_ms, "ratio": rerun_ms / full_ms}


async def run(*, quick: bool, log: Callable[[str], None], browser: bool = True) -> dict[str, Any]:
    with stack() as s:
        await s.ready()
        pairs = []
        for _ in range(2 if quick else 5):
            pairs.append(await one_pair(s))
            p = pairs[-1]
            log(f"  full run {p['full_ms']:.0f} ms, re-run {p['rerun_ms']:.0f} ms: ratio {p['ratio']:.3f}")
    return {
        "pairs": pairs,
        "full_ms_median": median([p["full_ms"] for p in pairs]),
        "rerun_ms_median": median([p["rerun_ms"] for p in pairs]),
        "ratio_median": median([p["ratio"] for p in pairs]),
    }


def versus(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return []  # the TypeScript version had no re-runs to set beside it


def summary(result: dict[str, Any] | None) -> dict[str, str]:
    return {}  # the contract's summary line has no key for it; the figures are in BENCHMARKS.md


def markdown(r: dict[str, Any]) -> list[str]:
    return [
        f"Five stages of about 0.5 s each ({MARKER}); from the request to stage `{LAST}`'s first text, "
        f"medians over {len(r['pairs'])} pairs measured back to back: full run **{r['full_ms_median']:.0f} ms**, "
        f"re-run from `{LAST}` **{r['rerun_ms_median']:.0f} ms**, ratio **{r['ratio_median']:.3f}** "
        "(1 model call instead of 5; the four reused stages replay their text from the parent).",
        "",
        "Pairs (full / re-run ms): " + ", ".join(f"{p['full_ms']:.0f} / {p['rerun_ms']:.0f}" for p in r["pairs"]) + ".",
    ]


if __name__ == "__main__":
    run_alone(NAME)
