"""Fan-out: N executions × M SSE viewers at once (full 50 × 20, quick 10 × 5), every stage streaming
(2 stages × D deltas, 5 ms apart); the worker runs 4 at a time, the rest wait queued.

Every viewer follows its execution from seq 0 and checks each event as it arrives (bench/sse.py):
seq exactly last + 1, a chunk's offset exactly the stage's length so far, and at the end each stage's
length. Lost = the final event's seq minus the events received. The web process's CPU time and
memory are read from /proc while it serves.

Then the relay at full speed: once every run has ended, all N × M viewers reconnect at once from seq 0
and read every event again — from Redis while an ended run's stream is kept (``STREAM_TTL_S``), else
from the database — the events/s one web process relays when nothing else paces it.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aredis

from executions.live.relay import stream_key

from .common import ProcessMeter, cpu_seconds, run_alone
from .sse import Viewer
from .stack import CONCURRENCY, Stack, stack

NAME = "fanout"
TITLE = "Fan-out"
INTERVAL_MS = 5


def sizes(quick: bool) -> tuple[int, int, int]:
    """(executions, viewers each, deltas per stage)."""
    return (10, 5, 100) if quick else (50, 20, 200)


async def sample_rss(meters: list[ProcessMeter], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for m in meters:
            m.sample()
        await asyncio.sleep(0.05)


async def follow_all(s: Stack, ids: list[str], per: int) -> tuple[list[Viewer], dict[str, float]]:
    """Every viewer of every execution, to the final event; with the processes' CPU and memory."""
    web = ProcessMeter(s.web.pid)
    pool = [ProcessMeter(pid) for pid in [s.worker.pid, *s.worker_pool()]]
    bench_cpu0 = cpu_seconds(os.getpid())
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss([web, *pool], stop))
    viewers = [Viewer(s.port, s.token, eid) for eid in ids for _ in range(per)]
    t0 = time.monotonic()
    await asyncio.gather(*(v.run(timeout=600) for v in viewers))
    wall = time.monotonic() - t0
    connects = sorted((v.connected_at or math.inf) - t0 for v in viewers)
    stop.set()
    await sampler
    return viewers, {
        "wall_s": wall,
        # every viewer's request answered (headers received): authorisation and set-up, before any event
        "all_connected_s": connects[-1],
        "web_cpu_s": web.cpu_s(),
        "web_rss_start_kb": web.rss_start_kb,
        "web_rss_peak_kb": web.rss_peak_kb,
        "worker_cpu_s": sum(m.cpu_s() for m in pool),
        "bench_cpu_s": cpu_seconds(os.getpid()) - bench_cpu0,
    }


async def streams_kept(redis_url: str, ids: list[str]) -> int:
    client = aredis.Redis.from_url(redis_url, socket_timeout=None)
    try:
        return int(await client.exists(*(stream_key(eid) for eid in ids)))
    finally:
        await client.aclose()


def tally(viewers: list[Viewer], expected_length: int) -> dict[str, int]:
    return {
        "events": sum(v.received for v in viewers),
        "lost": sum(v.lost if v.lost >= 0 else 0 for v in viewers),
        "unfinished": sum(1 for v in viewers if v.final_seq is None),
        "duplicated": sum(v.duplicates for v in viewers),
        "out_of_order": sum(v.gaps for v in viewers),
        "offset_errors": sum(v.offset_errors for v in viewers),
        "wrong_length": sum(1 for v in viewers for n in v.lengths.values() if n != expected_length),
        "reconnects": sum(v.reconnects for v in viewers),
        "not_completed": sum(1 for v in viewers if v.final_type != "execution:completed"),
    }


async def run(*, quick: bool, log: Callable[[str], None], browser: bool = True) -> dict[str, Any]:
    executions, per, deltas = sizes(quick)
    expected = sum(len(f"tok{i} ") for i in range(deltas))
    with stack() as s:
        await s.ready()
        spec = f"[fake:deltas={deltas},interval_ms={INTERVAL_MS}]"
        ids = [await s.arun("bench-two", spec) for _ in range(executions)]
        log(f"  {executions} executions started; {executions * per} viewers following them")
        live, figures = await follow_all(s, ids, per)
        counts = tally(live, expected)
        log(f"  live: {counts['events']} events in {figures['wall_s']:.1f} s, lost {counts['lost']}")
        # The ended runs' streams still in Redis (the rest are replayed from the database).
        kept = await streams_kept(s.redis_url, ids)
        replay, replay_figures = await follow_all(s, ids, per)
        replay_figures["streams_in_redis"] = kept
        replay_counts = tally(replay, expected)
        log(f"  relay at full speed: {replay_counts['events']} events in {replay_figures['wall_s']:.1f} s")
    return {
        "executions": executions,
        "viewers_each": per,
        "deltas": deltas,
        "concurrency": CONCURRENCY,
        "live": {**counts, **figures},
        "replay": {**replay_counts, **replay_figures},
    }


def _bad(counts: dict[str, Any]) -> int:
    return sum(_problems(counts).values())


def _problems(counts: dict[str, Any]) -> dict[str, int]:
    keys = ("lost", "unfinished", "duplicated", "out_of_order", "offset_errors", "wrong_length", "not_completed")
    return {k: counts[k] for k in keys if counts[k]}


def versus(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    live = result["live"]
    return [
        (
            f"fan-out {result['executions']} × {result['viewers_each']}: events delivered, lost",
            f"{live['events']:,}, {live['lost']}",
            "106,960, 0 (50 × 20, all 50 running at once)",
        ),
        (
            "fan-out: web CPU, web RSS start → peak",
            f"{live['web_cpu_s']:.1f} s over {live['wall_s']:.1f} s, "
            f"{live['web_rss_start_kb'] / 1024:.0f} → {live['web_rss_peak_kb'] / 1024:.0f} MB",
            "2.3 s over 2.6 s, 70 → 121 MB",
        ),
    ]


def summary(result: dict[str, Any] | None) -> dict[str, str]:
    if result is None:
        return {"lost_events": "na", "duplicated_events": "na"}
    live, replay = result["live"], result["replay"]
    return {
        "lost_events": str(live["lost"] + replay["lost"]),
        "duplicated_events": str(live["duplicated"] + replay["duplicated"]),
    }


def budgets(result: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    name = "50 executions × 20 viewers: 0 events lost, duplicated or out of order"
    if result is None:
        return [(name, "benchmark failed", "not measured")]
    live = result["live"]
    figure = (
        f"{live['lost']} lost, {live['duplicated']} duplicated, {live['out_of_order']} out of order, "
        f"{live['offset_errors']} bad offsets of {live['events']:,} events "
        f"({result['executions']} × {result['viewers_each']})"
    )
    full_size = result["executions"] >= 50 and result["viewers_each"] >= 20
    verdict = "MISSED" if _bad(live) or _bad(result["replay"]) else "met" if full_size else "met (quick sizes)"
    if verdict == "MISSED":
        bad = {
            k: v for k, v in {**live, **result["replay"]}.items() if k not in ("events",) and isinstance(v, int) and v
        }
        figure += f"; {bad}"
    return [(name, figure, verdict)]


def markdown(r: dict[str, Any]) -> list[str]:
    def row(label: str, x: dict[str, Any]) -> str:
        rate = x["events"] / x["wall_s"]
        return (
            f"| {label} | {x['events']:,} | {x['lost']} | {x['duplicated']} | {x['out_of_order']} "
            f"| {x['offset_errors'] + x['wrong_length']} | {x['reconnects']} | {x['wall_s']:.1f} s | **{rate:,.0f}** "
            f"| {x['web_cpu_s']:.1f} s ({x['web_cpu_s'] / x['wall_s'] * 100:.0f} % of a core) "
            f"| {x['events'] / max(x['web_cpu_s'], 1e-9):,.0f} | {x['all_connected_s']:.1f} s "
            f"| {x['web_rss_start_kb'] / 1024:.0f} → "
            f"{x['web_rss_peak_kb'] / 1024:.0f} MB | {x['worker_cpu_s']:.1f} s | {x['bench_cpu_s']:.1f} s |"
        )

    return [
        f"{r['executions']} executions × {r['viewers_each']} SSE viewers each, 2 stages × {r['deltas']} deltas "
        f"{INTERVAL_MS} ms apart per execution, the worker running {r['concurrency']} at a time (`-c "
        f'{r["concurrency"]}`). "Relay at full speed": the same viewers, all reconnecting at once from seq 0 '
        f"after the runs ended ({r['replay'].get('streams_in_redis', '?')} of the {r['executions']} streams still in "
        "Redis; the rest replayed from the database).",
        "",
        "| phase | events delivered | lost | duplicated | out of order | wrong offset or length | reconnects "
        "| wall | events/s | web CPU | events per web CPU-second | all viewers answered after | web RSS start → peak "
        "| worker CPU "
        "| viewers' CPU (bench process) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        row("live", r["live"]),
        row("relay at full speed", r["replay"]),
    ]


if __name__ == "__main__":
    run_alone(NAME)
