"""Memory: N executions of 1 MB output each (full 500, quick 40), 4 running at a time, every one
followed by an SSE viewer, so the web process relays every byte of it.

The fake model sends 1 MB of numbered lines in 4 KB deltas, 1 ms apart. Runs are started in batches
of 10; after each batch the resident memory (VmRSS) of the web process, of the worker (its main
process and each pool process) and Redis's ``used_memory`` are sampled. The slope is a least-squares
fit after the first fifth (the warm-up: allocators, caches and pools growing to their working size).
Now and then a full output is read back through the API and compared byte for byte.

After the last run: what Redis still holds (the ended runs' streams, which expire a while after the
end), and — in a full run, when that while is short — the same once they have expired.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from .common import cpu_seconds, peak_rss_kb, rss_kb, run_alone, slope
from .fake_model import bench_marker, numbered_text
from .sse import Viewer
from .stack import CONCURRENCY, Stack, stack
from .streams import redis_figures

NAME = "memory"
TITLE = "Memory over many runs"
SIZE = 1024 * 1024
BATCH = 10


def worker_rss(s: Stack) -> tuple[int, list[int]]:
    return rss_kb(s.worker.pid), [rss_kb(pid) for pid in s.worker_pool()]


async def run_one(s: Stack, marker: str) -> tuple[str, Viewer]:
    execution_id = await s.arun("bench-one", marker)
    return execution_id, await Viewer(s.port, s.token, execution_id).run(timeout=300)


async def run(*, quick: bool, log: Callable[[str], None], browser: bool = True) -> dict[str, Any]:
    total = 40 if quick else 500
    marker = bench_marker(size=SIZE, delta=4096, interval_ms=1)
    expected = numbered_text(SIZE)
    # A stack of its own: the web process's figures start from one that nothing else has used (the
    # fan-out's thousand viewers leave a high-water mark behind).
    with stack(fresh=True) as s:
        await s.ready()
        redis_before = await redis_figures(s.redis_url)
        samples: list[dict[str, Any]] = []
        main_kb, pool_kb = worker_rss(s)
        samples.append(
            {
                "runs": 0,
                "web_kb": rss_kb(s.web.pid),
                "worker_kb": main_kb,
                "pool_kb": pool_kb,
                "redis_kb": redis_before["used_kb"],
            }
        )
        failures = 0
        checked = 0
        pool = s.worker_pool()
        cpu0 = {"web": cpu_seconds(s.web.pid), "pool": sum(map(cpu_seconds, pool)), "bench": cpu_seconds(os.getpid())}
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        done = 0
        while done < total:
            batch = min(BATCH, total - done)
            results = await asyncio.gather(*(run_one(s, marker) for _ in range(batch)))
            done += batch
            for _, v in results:
                if v.error or v.lost or v.gaps or v.duplicates or v.offset_errors or v.lengths.get("out") != SIZE:
                    failures += 1
            if done % 100 == 0 or done == total:
                # A full output read back through the API, byte for byte.
                status, body = await asyncio.to_thread(
                    s.request, "GET", f"/api/executions/{results[0][0]}/stages/out/output"
                )
                checked += 1
                if status != 200 or body.decode() != expected:
                    failures += 1
            redis_now = await redis_figures(s.redis_url)
            main_kb, pool_kb = worker_rss(s)
            samples.append(
                {
                    "runs": done,
                    "web_kb": rss_kb(s.web.pid),
                    "worker_kb": main_kb,
                    "pool_kb": pool_kb,
                    "redis_kb": redis_now["used_kb"],
                }
            )
            if done % 50 == 0 or done == total:
                log(
                    f"  {done}/{total}: web {samples[-1]['web_kb'] // 1024} MB, Redis {redis_now['used_kb'] // 1024} MB"
                )
        wall = loop.time() - t0
        redis_end = await redis_figures(s.redis_url)
        cpu = {
            "web": cpu_seconds(s.web.pid) - cpu0["web"],
            "pool": sum(map(cpu_seconds, pool)) - cpu0["pool"],
            "redis": redis_end["cpu_s"] - redis_before["cpu_s"],
            "bench": cpu_seconds(os.getpid()) - cpu0["bench"],
        }
        redis_expired = None
        if not quick and 0 < redis_end["max_ttl_s"] <= 90:
            await asyncio.sleep(redis_end["max_ttl_s"] + 2)
            redis_expired = await redis_figures(s.redis_url)
        web_peak = peak_rss_kb(s.web.pid)
    warm = [x for x in samples if x["runs"] >= total // 5]
    return {
        "executions": total,
        "size": SIZE,
        "concurrency": CONCURRENCY,
        "wall_s": wall,
        "cpu_s": cpu,
        "samples": samples,
        "web_slope_kb": slope([(x["runs"], x["web_kb"]) for x in warm]),
        "pool_slope_kb": slope([(x["runs"], sum(x["pool_kb"])) for x in warm]),
        "redis_slope_kb": slope([(x["runs"], x["redis_kb"]) for x in warm]),
        "web_peak_kb": web_peak,
        "failures": failures,
        "checked": checked,
        "redis_before": redis_before,
        "redis_end": redis_end,
        "redis_expired": redis_expired,
    }


def versus(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            f"memory over {result['executions']} × 1 MB: web RSS slope, peak",
            f"{result['web_slope_kb']:.1f} KB per run, {result['web_peak_kb'] / 1024:.0f} MB",
            "12.6 KB per run, 200 MB (500 runs)",
        ),
        (
            "memory: wall time per 1 MB run (4 at a time)",
            f"{result['wall_s'] / result['executions'] * 1000:.0f} ms",
            "93 ms",
        ),
    ]


def summary(result: dict[str, Any] | None) -> dict[str, str]:
    return {"web_rss_slope_kb_per_run": "na" if result is None else f"{result['web_slope_kb']:.1f}"}


def budgets(result: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    name = "web memory flat over 500 runs of 1 MB (slope after warm-up)"
    worker_name = "a worker holds nothing of a run once it has ended (pool memory flat)"
    redis_name = "Redis holds nothing for an execution once it has ended"
    if result is None:
        return [(n, "benchmark failed", "not measured") for n in (name, worker_name, redis_name)]
    slope_kb = result["web_slope_kb"]
    n = result["executions"]
    figure = f"{slope_kb:.1f} KB per run ({slope_kb * n / 1024:.1f} MB over {n} runs of 1 MB)"
    # "Flat": the fitted growth stays under 1 % of the output streamed through (10 KB per 1 MB run).
    flat = slope_kb * n < 0.01 * n * result["size"] / 1024
    if result["failures"]:
        verdict = "MISSED"
    elif n < 500:
        # A few dozen runs give a few samples of a saw-tooth several MB high: no verdict either way.
        verdict = "met (quick sizes)" if flat else "not conclusive (quick sizes)"
    else:
        verdict = "met" if flat else "MISSED"
    end, expired = result["redis_end"], result["redis_expired"]
    held = (
        f"{end['streams']} ended runs' streams ({end['entries']:,} entries, ~{end['sample_stream_kb']} KB each) held "
    )
    held += f"{(end['used_kb'] - result['redis_before']['used_kb']) / 1024:.0f} MB right after the last run"
    if expired is not None:
        left = (expired["used_kb"] - result["redis_before"]["used_kb"]) / 1024
        held += f"; {expired['streams']} streams, {left:.1f} MB more than before the runs once their TTL had passed"
        redis_verdict = "met after the TTL" if expired["streams"] == 0 else "MISSED"
    else:
        held += f", all expiring within {end['max_ttl_s']} s"
        redis_verdict = "not measured (quick: TTL not waited for)" if end["no_ttl"] == 0 else "MISSED"
    pool_kb = result["pool_slope_kb"]
    pool_figure = (
        f"{pool_kb:.1f} KB per run over the {CONCURRENCY} pool processes ({pool_kb * n / 1024:.0f} MB over {n} runs)"
    )
    pool_flat = pool_kb * n < 0.01 * n * result["size"] / 1024
    if n < 500:
        pool_verdict = "met (quick sizes)" if pool_flat else "not conclusive (quick sizes)"
    else:
        pool_verdict = "met" if pool_flat else "MISSED"
    return [(name, figure, verdict), (worker_name, pool_figure, pool_verdict), (redis_name, held, redis_verdict)]


def markdown(r: dict[str, Any]) -> list[str]:
    mb = lambda kb: f"{kb / 1024:.0f}"  # noqa: E731
    samples = r["samples"]
    cpu = r["cpu_s"]
    throughput = r["executions"] * r["size"] / 1024 / 1024 / r["wall_s"]
    step = max(1, len(samples) // 25)
    shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    out = [
        f"{r['executions']} executions × {r['size'] // 1024 // 1024} MB of output (4 KB deltas 1 ms apart), "
        f"{r['concurrency']} running at a time, each followed by one SSE viewer; {r['wall_s']:.1f} s "
        f"({r['executions'] / r['wall_s']:.1f} runs/s, {throughput:.1f} MB/s through worker, Redis, database and web). "
        f"CPU time over the runs: web {cpu['web']:.0f} s, worker pool {cpu['pool']:.0f} s, Redis {cpu['redis']:.0f} s, "
        f"SSE viewers (bench process) {cpu['bench']:.0f} s.",
        "",
        f"- Web process (Daphne): RSS {mb(samples[0]['web_kb'])} MB before → {mb(samples[-1]['web_kb'])} MB after, "
        f"peak {mb(r['web_peak_kb'])} MB; fitted slope after the warm-up fifth **{r['web_slope_kb']:.1f} KB per run**.",
        f"- Worker pool ({r['concurrency']} processes, together): {mb(sum(samples[0]['pool_kb']))} → "
        f"{mb(sum(samples[-1]['pool_kb']))} MB; slope {r['pool_slope_kb']:.1f} KB per run. Worker main process "
        f"{mb(samples[0]['worker_kb'])} → {mb(samples[-1]['worker_kb'])} MB.",
        f"- Redis `used_memory`: {mb(r['redis_before']['used_kb'])} MB before → {mb(r['redis_end']['used_kb'])} MB "
        f"right after the last run; then {r['redis_end']['streams']} streams of ended runs were still there "
        f"({r['redis_end']['entries']:,} entries, ~{r['redis_end']['sample_stream_kb']} KB each, longest TTL "
        f"{r['redis_end']['max_ttl_s']} s, {r['redis_end']['no_ttl']} without a TTL).",
    ]
    if r["redis_expired"] is not None:
        e = r["redis_expired"]
        out.append(f"- Once the TTL had passed: {e['streams']} streams, Redis `used_memory` {mb(e['used_kb'])} MB.")
    out += [
        f"- Full outputs read back through the API byte for byte: {r['checked']}; runs with a lost, duplicated or "
        f"misplaced event, a wrong length or a failed read-back: {r['failures']}.",
        "",
        "RSS samples (runs: web / worker pool / Redis used, MB): "
        + ", ".join(f"{x['runs']}: {mb(x['web_kb'])} / {mb(sum(x['pool_kb']))} / {mb(x['redis_kb'])}" for x in shown)
        + ".",
    ]
    return out


if __name__ == "__main__":
    run_alone(NAME)
