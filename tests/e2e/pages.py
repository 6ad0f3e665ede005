"""What the browser tests do on the execution page, in one place: start runs, read the panels, measure."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.helpers.stack import Stack

OUTPUT = "[data-stage-id={stage}] [data-testid=stage-output]"
STATUS = "[data-testid=execution-status]"

# Collected from the first moment of every document: layout shifts (CLS, without the ones that follow a
# person's input, as the metric defines it), long main-thread tasks, and the stream's messages.
INSTRUMENT = """
window.__sc = {cls: 0, outside: 0, shifts: [], longest: 0, firstText: 0, messages: [], opens: 0, errors: 0};
// "outside": shifts of anything but the text inside an output panel's scroller, which the budget allows
// to move (ARCHITECTURE.md: "no layout shift outside the panel").
const inPanel = (node) => {
  const el = node && (node.nodeType === 1 ? node : node.parentElement);
  return Boolean(el && el.closest(".scroller"));
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    window.__sc.cls += e.value;
    const sources = e.sources || [];
    const moved = (s) => JSON.stringify(s.previousRect) !== JSON.stringify(s.currentRect);
    const outside = sources.length === 0 || sources.some((s) => moved(s) && !inPanel(s.node));
    if (outside) window.__sc.outside += e.value;
    const describe = (s) => {
      const el = s.node && (s.node.nodeType === 1 ? s.node : s.node.parentElement);
      const owner = el && (el.closest("[id]") || {}).id;
      const where = el ? (el.id || el.className || el.nodeName) + " in " + (owner || "?") : "gone";
      return where + " " + JSON.stringify([s.previousRect.x, s.previousRect.y, s.currentRect.x, s.currentRect.y]);
    };
    window.__sc.shifts.push([e.value, outside, sources.map(describe)]);
  }
}).observe({type: "layout-shift", buffered: true});
// Long tasks once text streams (the page's own load is not what the budget is about).
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (window.__sc.firstText && e.startTime >= window.__sc.firstText) {
      window.__sc.longest = Math.max(window.__sc.longest, e.duration);
    }
  }
}).observe({type: "longtask", buffered: true});
// What the longest frames were busy with, for the message of a failing budget.
window.__sc.frames = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (!window.__sc.firstText || e.startTime < window.__sc.firstText || e.duration < 80) continue;
    const scripts = (e.scripts || []).map((x) => [
      x.invoker, Math.round(x.duration), Math.round(x.forcedStyleAndLayoutDuration),
    ]);
    const layout = e.styleAndLayoutStart ? Math.round(e.startTime + e.duration - e.styleAndLayoutStart) : 0;
    window.__sc.frames.push([Math.round(e.duration), Math.round(e.blockingDuration), layout, scripts]);
  }
}).observe({type: "long-animation-frame", buffered: true});
document.addEventListener("htmx:sseBeforeMessage", (e) => {
  if (!window.__sc.firstText && e.detail.type.startsWith("out-")) window.__sc.firstText = performance.now();
  window.__sc.messages.push([Number(e.detail.lastEventId), e.detail.type, performance.now()]);
});
document.addEventListener("htmx:sseOpen", () => {
  window.__sc.opens += 1;
  window.__sc.messages.push([0, "open", performance.now()]);
});
document.addEventListener("htmx:sseError", () => { window.__sc.errors += 1; });
"""


def tokens(n: int) -> str:
    """What ``[fake:deltas=n]`` makes the model say."""
    return "".join(f"tok{i} " for i in range(n))


def output_text(page: Any, stage: str = "first") -> str:
    return page.eval_on_selector(OUTPUT.format(stage=stage), "e => e.textContent")


def status(page: Any) -> str:
    return page.get_attribute(STATUS, "data-status")


def wait_status(page: Any, wanted: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_selector(f"{STATUS}[data-status={wanted}]", timeout=timeout_ms)


def wait_text(page: Any, min_chars: int, stage: str = "first", timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = output_text(page, stage)
        if len(text) >= min_chars:
            return text
        time.sleep(0.05)
    raise AssertionError(f"stage {stage} never reached {min_chars} characters (has {len(output_text(page, stage))})")


def open_run(page: Any, live: Stack, input: str, *, token_user: str = "alice") -> str:
    """Starts a run through the API and opens its page; returns the execution id."""
    execution_id = live.run(live.tokens[token_user], input)
    page.goto(f"/executions/{execution_id}/")
    return execution_id


def start_from_form(page: Any, input: str, pipeline: str = "live-test") -> str:
    page.goto(f"/pipelines/{pipeline}/")
    page.fill("[data-testid=run-input]", input)
    page.press("[data-testid=run-input]", "Control+Enter")
    page.wait_for_url(re.compile(r"/executions/[0-9a-f-]{36}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def metrics(page: Any) -> dict[str, Any]:
    return page.evaluate("window.__sc")
