"""Browser rendering of a large output: a 1 MB and a 10 MB answer (numbered 100-character lines in 4 KB
deltas, sent as fast as the fake can) streamed into the portal's execution page in headless Chromium.

The page is opened while the model is held at its gate, and the whole answer is released once the
page's stream is open, so all of it arrives live. Measured in the page, from an init script that runs
before the page's own scripts:

- the longest main-thread task: exactly, from a Chrome trace (``RunTask`` on the renderer's main
  thread, every length), and as the Long Tasks API reports it (tasks over 50 ms only);
- the longest gap between animation frames (a frame the user waited for);
- layout shifts (``layout-shift`` entries without recent input): their total score, and those whose
  moved nodes lie outside the stage's panel;
- the DOM: element count, and how much text the stage's output element holds (the page keeps a window);
- the JS heap after a forced garbage collection (Chrome DevTools Protocol).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers.fake_models import FakeModelServer, Gate, Script

from . import chromium
from .common import run_alone
from .fake_model import answer_deltas
from .stack import Stack, stack

NAME = "browser"
TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline"]
if os.environ.get("STAGECAST_BENCH_TRACE_JS"):  # JavaScript samples too, to see what a long task runs
    TRACE_CATEGORIES.append("disabled-by-default-v8.cpu_profiler")
TITLE = "Browser rendering of a large output"
STAGE = "out"

PROBE = """
window.__bench = { longtasks: [], shifts: [], gap: 0, last: 0, framing: false, sseOpen: false, opens: 0, errors: 0 };
(() => {
  const b = window.__bench;
  const describe = (node) => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    if (!el) return null; // removed before the observer ran: cannot be placed
    const card = el.closest('[data-testid="stage-card"]');
    const names = typeof el.className === "string" ? el.className.trim() : "";
    const cls = names ? "." + names.split(/\\s+/).join(".") : "";
    return [el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls, !!card && card !== el];
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      b.shifts.push([e.startTime, e.value, (e.sources || []).map((s) => describe(s.node))]);
    }
  }).observe({ type: "layout-shift", buffered: true });
  document.addEventListener("htmx:sseOpen", () => { b.sseOpen = true; b.opens++; }, true);
  document.addEventListener("htmx:sseError", () => { b.errors++; }, true);
  b.startFrames = () => {
    b.framing = true; b.gap = 0; b.last = performance.now(); b.start = b.last;
    const tick = (t) => {
      if (!b.framing) return;
      b.gap = Math.max(b.gap, t - b.last); b.last = t; requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  b.stopFrames = () => { b.framing = false; b.end = performance.now(); };
})();
"""

COLLECT = """(sel) => {
  const b = window.__bench;
  const during = (t) => t >= b.start && t <= b.end;
  const out = document.querySelector(sel);
  return {
    longtasks: b.longtasks.filter(([t]) => during(t)).map(([, d]) => d),
    loadLongtasks: b.longtasks.filter(([t]) => t < b.start).map(([, d]) => d),
    shifts: b.shifts.filter(([t]) => during(t)),
    gap: b.gap,
    streamMs: b.end - b.start,
    domNodes: document.getElementsByTagName("*").length,
    reconnects: b.opens - 1,
    streamErrors: b.errors,
    outputChars: out ? out.textContent.length : -1,
    outputNodes: out ? out.childNodes.length : -1,
  };
}"""


def renderer_longest_task_ms(trace: bytes) -> float:
    """The longest ``RunTask`` on any renderer main thread of the trace (µs in the trace)."""
    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"
    }
    durations = [
        e.get("dur", 0)
        for e in events
        if e.get("name") == "RunTask" and e.get("ph") == "X" and (e["pid"], e["tid"]) in main
    ]
    return max(durations, default=0) / 1000


async def one_size(s: Stack, fake: FakeModelServer, chromium_browser: Any, size: int) -> dict[str, Any]:
    deltas = answer_deltas(size, 4096)
    gate = Gate()
    fake.enqueue(Script(deltas=deltas, gate=gate))
    page = await chromium.signed_in_page(chromium_browser, s, init_script=PROBE)
    cdp = await page.context.new_cdp_session(page)
    try:
        execution_id = await s.arun("bench-gated", f"a {size}-byte answer")
        await page.goto(f"/executions/{execution_id}/")
        await page.wait_for_function("window.__bench.sseOpen")
        # Playwright's own script for selectors is injected on first use: here, not in the measurement.
        await page.wait_for_selector('[data-testid="execution-status"]', state="attached")
        await asyncio.sleep(0.3)  # page load settles (its long tasks are reported apart)
        await chromium_browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        await page.evaluate("window.__bench.startFrames()")
        gate.release(len(deltas))
        await page.wait_for_selector(
            '[data-testid="execution-status"][data-status="success"]', timeout=180_000, state="attached"
        )
        await page.evaluate("window.__bench.stopFrames()")
        await asyncio.sleep(0.2)
        trace = await chromium_browser.stop_tracing()
        if os.environ.get("STAGECAST_BENCH_TRACE"):  # keep the trace to open in DevTools (Performance)
            Path(f"{os.environ['STAGECAST_BENCH_TRACE']}-{size // 1024 // 1024}mb.json").write_bytes(trace)
        figures = await page.evaluate(COLLECT, chromium.stage_output(STAGE))
        await cdp.send("HeapProfiler.collectGarbage")
        heap = await cdp.send("Runtime.getHeapUsage")
        outside = [shift for shift in figures["shifts"] if any(src and not src[1] for src in shift[2])]
        moved = sorted({src[0] for shift in outside for src in shift[2] if src and not src[1]})
        unplaced = [shift for shift in figures["shifts"] if shift[2] and all(src is None for src in shift[2])]
        moved_inside = sorted({src[0] for shift in figures["shifts"] for src in shift[2] if src and src[1]})
        return {
            "size": size,
            "longest_task_ms": renderer_longest_task_ms(trace),
            "longtasks": figures["longtasks"],
            "load_longtasks": figures["loadLongtasks"],
            "max_frame_gap_ms": figures["gap"],
            "stream_ms": figures["streamMs"],
            "cls": sum(shift[1] for shift in figures["shifts"]),
            "shifts": len(figures["shifts"]),
            "shifts_outside": len(outside),
            "cls_outside": sum(shift[1] for shift in outside),
            "moved_outside": moved[:8],
            "moved_inside": moved_inside[:8],
            "shifts_unplaced": len(unplaced),
            "dom_nodes": figures["domNodes"],
            "reconnects": figures["reconnects"],
            "stream_errors": figures["streamErrors"],
            "output_chars": figures["outputChars"],
            "output_nodes": figures["outputNodes"],
            "heap_mb": heap["usedSize"] / 1024 / 1024,
            "page_errors": list(page.bench_errors),
        }
    finally:
        with contextlib.suppress(Exception):
            await page.context.close()


async def run(*, quick: bool, log: Callable[[str], None], browser: bool = True) -> dict[str, Any]:
    skipped = None if browser else "not requested (--no-browser)"
    skipped = skipped or chromium.unavailable()
    if skipped:
        return {"runs": [], "skipped": skipped}
    sizes = [1024 * 1024] if quick else [1024 * 1024, 10 * 1024 * 1024]
    with stack() as s:
        await s.ready()
        runs = []
        async with chromium.browser() as b:
            for size in sizes:
                r = await one_size(s, s.gated, b, size)
                log(
                    f"  {size // 1024 // 1024} MB: longest task {r['longest_task_ms']:.0f} ms, "
                    f"frame gap {r['max_frame_gap_ms']:.0f} ms, CLS {r['cls']:.4f}, "
                    f"{r['shifts_outside']} shifts outside the panel"
                )
                runs.append(r)
        return {"runs": runs, "skipped": None}


def _one_mb(result: dict[str, Any] | None) -> dict[str, Any] | None:
    return next((r for r in result["runs"] if r["size"] == 1024 * 1024), None) if result else None


#: the TypeScript version's full run: (longest task while streaming, max frame gap, CLS outside, JS heap MB)
TS = {1: ("none over 50 ms", "33 ms", "0.000", "7.9 MB"), 10: ("none over 50 ms", "17 ms", "0.001", "175.9 MB")}


def versus(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    for r in result["runs"]:
        mb = round(r["size"] / 1024 / 1024)
        task, gap, cls, heap = TS[mb]
        rows.append(
            (
                f"browser, {mb} MB output: longest task, max frame gap, CLS outside the panel, JS heap",
                f"{r['longest_task_ms']:.0f} ms, {r['max_frame_gap_ms']:.0f} ms, {r['cls_outside']:.3f}, "
                f"{r['heap_mb']:.1f} MB",
                f"{task}, {gap}, {cls}, {heap}",
            )
        )
    return rows


def summary(result: dict[str, Any] | None) -> dict[str, str]:
    r = _one_mb(result)
    if r is None:
        return {"browser_longest_task_ms": "na", "browser_cls": "na"}
    # The budget's CLS: shifts outside the panel (the output growing and scrolling inside it is its job).
    return {"browser_longest_task_ms": f"{r['longest_task_ms']:.0f}", "browser_cls": f"{r['cls_outside']:.4f}"}


def budgets(result: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    name = "1 MB output: no main-thread task over 50 ms, no layout shift outside the panel"
    r = _one_mb(result)
    if r is None:
        why = result["skipped"] if result and result.get("skipped") else "benchmark failed"
        return [(name, why, "not measured")]
    figure = (
        f"longest task {r['longest_task_ms']:.0f} ms ({len(r['longtasks'])} over 50 ms), "
        f"{r['shifts_outside']} shifts outside the panel (CLS outside {r['cls_outside']:.4f}, all {r['cls']:.4f})"
    )
    ok = r["longest_task_ms"] <= 50 and not r["longtasks"] and r["shifts_outside"] == 0
    return [(name, figure, "met" if ok else "MISSED")]


def markdown(result: dict[str, Any]) -> list[str]:
    if not result["runs"]:
        return [f"Not measured: {result['skipped']}."]
    out = [
        "| output | longest main-thread task (trace) | Long Tasks API (> 50 ms) while streaming | long tasks at page "
        "load (not budgeted) | max frame gap | layout shifts (CLS): all / outside the panel | DOM elements "
        "| text kept in the output element | JS heap after GC | release → completed | stream reconnects |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        tasks = ", ".join(f"{d:.0f} ms" for d in sorted(r["longtasks"], reverse=True)[:5]) or "none"
        load = ", ".join(f"{d:.0f} ms" for d in sorted(r["load_longtasks"], reverse=True)[:3]) or "none"
        moved = f" (`{'`, `'.join(r['moved_outside'])}`)" if r["moved_outside"] else ""
        unplaced = f"; {r['shifts_unplaced']} of removed nodes" if r.get("shifts_unplaced") else ""
        out.append(
            f"| {r['size'] / 1024 / 1024:.0f} MB | **{r['longest_task_ms']:.0f} ms** | {tasks} | {load} "
            f"| {r['max_frame_gap_ms']:.0f} ms | {r['shifts']} ({r['cls']:.4f}) "
            f"/ {r['shifts_outside']} ({r['cls_outside']:.4f}){moved}"
            f"{unplaced} "
            f"| {r['dom_nodes']} | {r['output_chars']:,} characters in {r['output_nodes']} nodes "
            f"| {r['heap_mb']:.1f} MB | {r['stream_ms']:.0f} ms | {r['reconnects']} |"
        )
    inside = sorted({name for r in result["runs"] for name in r.get("moved_inside", [])})
    if inside:
        out += ["", f"Nodes moved by the shifts inside the panel: `{'`, `'.join(inside)}`."]
    errors = [e for r in result["runs"] for e in r["page_errors"]]
    if errors:
        out += ["", f"JavaScript errors on the page: {'; '.join(errors[:3])}."]
    return out


if __name__ == "__main__":
    run_alone(NAME)
