// Rendering a large stage output in the dashboard: a 1 MB and a 10 MB answer streamed as fast as the
// fake can send, watched in headless Chromium in the raw view. Measured in the page: the longest
// main-thread task (Long Tasks API: only tasks over 50 ms are reported) and the longest gap between
// animation frames (a task of any length shows there), layout shifts outside the output panel, DOM
// node count and the JS heap after a GC (CDP).
// Usage: bun bench/browser-render.ts [--quick]
import { createGate, startFakeOpenAI } from "../tests/helpers/fake-openai.ts";
import { launchBrowser, prepareDashboard, showRawOutput, stageCard } from "./lib/browser.ts";
import { quickFlag, startBenchServer } from "./lib/proc.ts";

export interface RenderRun {
  outputBytes: number;
  /** longest task the Long Tasks API reported while the output streamed and rendered (0: none over 50 ms) */
  longestTaskMs: number;
  longTasks: number;
  /** the same while the page loaded, before the output streamed (not part of the budget) */
  loadLongestTaskMs: number;
  /** longest gap between two animation frames while streaming */
  maxFrameGapMs: number;
  /** layout shifts whose moved nodes are not inside a stage's output */
  shiftsOutsideOutput: number;
  /** the moved elements of those shifts (tag, test id, classes) */
  shiftedOutside: string[];
  layoutShiftScore: number;
  domNodes: number;
  heapUsedMb: number;
  /** stage start → the card shows completed */
  renderWallMs: number;
}

export interface RenderResult {
  runs: RenderRun[];
  skipped: string | null;
}

interface Probe {
  longTasks: { start: number; duration: number }[];
  shifts: { start: number; value: number; outside: boolean; nodes: string[] }[];
  frameGaps: number[];
}

// Installed before the app's own scripts, so nothing of the load is missed; the load's own long tasks
// and shifts are told apart from those while the output streams by their start time.
const PAGE_PROBES = `
window.__probe = { longTasks: [], shifts: [], frameGaps: [] };
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__probe.longTasks.push({ start: e.startTime, duration: e.duration }); }).observe({ type: "longtask", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.hadRecentInput) continue;
    const out = (e.sources || []).filter((s) => s.node && !(s.node.closest && s.node.closest('[data-testid="stage-output"]')) && !(s.node.parentElement && s.node.parentElement.closest('[data-testid="stage-output"]')));
    const nodes = out.map((s) => { const el = s.node.nodeType === 1 ? s.node : s.node.parentElement; return el ? el.tagName.toLowerCase() + (el.getAttribute("data-testid") ? "[" + el.getAttribute("data-testid") + "]" : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") : "#text"; });
    window.__probe.shifts.push({ start: e.startTime, value: e.value, outside: out.length > 0, nodes });
  }
}).observe({ type: "layout-shift", buffered: true });
`;

export async function benchBrowserRender(opts: { quick: boolean; log?: (line: string) => void }): Promise<RenderResult> {
  const log = opts.log ?? console.log;
  const dashboard = await prepareDashboard(log);
  if (dashboard.webDir === null) return { runs: [], skipped: dashboard.skipped };
  const sizes = [1, 10]; // MB; the same in --quick: the budget is about exactly these
  const fake = await startFakeOpenAI();
  const server = await startBenchServer({ modelUrl: fake.url, webDir: dashboard.webDir });
  const runs: RenderRun[] = [];
  try {
    for (const mb of sizes) {
      const browser = await launchBrowser();
      try {
        await browser.context.addInitScript({ content: PAGE_PROBES });
        // Lines of ~100 characters, numbered, like a long log or a long answer.
        const line = (i: number) => `${String(i).padStart(7, "0")} ${"lorem ipsum dolor sit amet ".repeat(3)}${"x".repeat(10)}\n`;
        const perChunk = 40; // ~4 KB per delta
        const total = mb * 1024 * 1024;
        const chunks: string[] = [];
        let bytes = 0;
        for (let i = 0; bytes < total; i += perChunk) {
          const text = Array.from({ length: perChunk }, (_, k) => line(i + k)).join("");
          chunks.push(text);
          bytes += text.length;
        }
        const gate = createGate();
        fake.enqueue({ kind: "stream", chunks, gate });
        const id = await server.run("one", `render ${mb} MB`);
        const page = browser.page;
        await page.goto(`${server.url}/executions/${id}`);
        gate.release(1);
        await showRawOutput(page, "write", 30_000);
        await page.evaluate(() => {
          const probe = (window as unknown as { __probe: { frameGaps: number[] } }).__probe;
          let last = performance.now();
          const tick = (t: number) => {
            probe.frameGaps.push(t - last);
            last = t;
            if (!(window as unknown as { __stopFrames?: boolean }).__stopFrames) requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        });
        const streamStart = await page.evaluate(() => performance.now());
        const t0 = performance.now();
        gate.release(chunks.length);
        await page.waitForSelector(`${stageCard("write")}[data-status="completed"]`, { timeout: 120_000 });
        const renderWallMs = Math.round(performance.now() - t0);
        // Two frames after completion, so the last batch is laid out and painted.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        const probe = await page.evaluate(() => {
          (window as unknown as { __stopFrames: boolean }).__stopFrames = true;
          return (window as unknown as { __probe: Probe }).__probe;
        });
        const during = probe.longTasks.filter((t) => t.start + t.duration > streamStart).map((t) => t.duration);
        const load = probe.longTasks.filter((t) => t.start + t.duration <= streamStart).map((t) => t.duration);
        const shifts = probe.shifts.filter((x) => x.start >= streamStart);
        const domNodes = await page.evaluate(() => document.getElementsByTagName("*").length);
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send("HeapProfiler.collectGarbage");
        const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
        runs.push({
          outputBytes: bytes,
          longestTaskMs: Math.round(Math.max(0, ...during)),
          longTasks: during.length,
          loadLongestTaskMs: Math.round(Math.max(0, ...load)),
          maxFrameGapMs: Math.round(Math.max(0, ...probe.frameGaps)),
          shiftsOutsideOutput: shifts.filter((x) => x.outside).length,
          shiftedOutside: [...new Set(shifts.flatMap((x) => x.nodes))],
          layoutShiftScore: shifts.reduce((n, x) => n + x.value, 0),
          domNodes,
          heapUsedMb: Math.round((heap.usedSize / 1024 / 1024) * 10) / 10,
          renderWallMs,
        });
        log(`  ${mb} MB: longest task ${runs.at(-1)?.longestTaskMs} ms, max frame gap ${runs.at(-1)?.maxFrameGapMs} ms`);
      } finally {
        await browser.close();
      }
    }
    return { runs, skipped: null };
  } catch (err) {
    return { runs, skipped: `the dashboard did not render the output as its test hooks promise: ${(err as Error).message.split("\n")[0]}` };
  } finally {
    await server.stop();
    await fake.stop();
  }
}

export function printBrowserRender(r: RenderResult, log = console.log): void {
  if (r.skipped) {
    log(`browser render: not measured (${r.skipped})`);
    log(`render_longest_task_ms=na`);
    return;
  }
  log("browser render: a large stage output streamed at full speed, raw view, headless Chromium");
  for (const x of r.runs) {
    log(
      `  ${(x.outputBytes / 1024 / 1024).toFixed(1)} MB: longest task while streaming ${x.longTasks ? `${x.longestTaskMs} ms (${x.longTasks} over 50 ms)` : "none over 50 ms"} (page load: ${x.loadLongestTaskMs || "none over 50"} ms), max frame gap ${x.maxFrameGapMs} ms, ` +
        `layout shifts outside the output ${x.shiftsOutsideOutput}${x.shiftedOutside.length ? ` [${x.shiftedOutside.join(", ")}]` : ""} (CLS ${x.layoutShiftScore.toFixed(3)}), DOM nodes ${x.domNodes}, JS heap ${x.heapUsedMb} MB, streamed and shown in ${x.renderWallMs} ms`,
    );
  }
  const oneMb = r.runs[0];
  log(`render_longest_task_ms=${oneMb ? oneMb.longestTaskMs : "na"} render_10mb_longest_task_ms=${r.runs[1]?.longestTaskMs ?? "na"}`);
}

if (import.meta.main) printBrowserRender(await benchBrowserRender({ quick: quickFlag() }));
