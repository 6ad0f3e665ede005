// Token → viewer latency. The fake model (in this process) stamps every delta with its send time
// (`sent[].at`); a WebSocket viewer here, and — when the dashboard is built — headless Chromium
// (a MutationObserver on the stage's output, same clock after an offset calibration) record when the
// text up to that delta has arrived. One delta is one token; the bench releases them at the target
// rate through the fake's gate, after the viewers are attached, so no token is measured from replay.
// Usage: bun bench/latency.ts [--quick] [--no-browser]
import type { Page } from "playwright-core";
import { type FakeModelServer, createGate, startFakeOpenAI } from "../tests/helpers/fake-openai.ts";
import { type Browser, clockOffset, launchBrowser, prepareDashboard, showRawOutput, stageOutput } from "./lib/browser.ts";
import { type BenchServer, busyShare, machineCpu, percentile, quickFlag, startBenchServer } from "./lib/proc.ts";
import { Viewer } from "./lib/viewer.ts";

const TOKEN = "tok ";
// Installed before the dashboard's scripts: every stage:output the page's WebSocket receives, timed
// on arrival, so the browser figure splits into transport and rendering.
const PAGE_WS_PROBE = `
window.__wsArrivals = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (ev) => {
      const at = performance.timeOrigin + performance.now();
      if (typeof ev.data !== "string" || !ev.data.includes('"stage:output"')) return;
      const m = JSON.parse(ev.data);
      if (m.type === "stage:output") window.__wsArrivals.push([at, m.offset + m.output.length]);
    });
  }
};
`;
const FIRST = "start ";

export interface LatencyStats {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LatencyRun {
  targetRate: number;
  achievedRate: number;
  tokens: number;
  ws: LatencyStats;
  /** the page's own WebSocket receiving the chunk (before the dashboard renders it) */
  pageWs: LatencyStats | null;
  browser: LatencyStats | null;
  /** share of the machine's cores busy (every process, this benchmark's included) while tokens streamed */
  machineBusy: number;
}

export interface LatencyResult {
  runs: LatencyRun[];
  /** why the browser was not measured, or null */
  browserSkipped: string | null;
  clockOffsetMs: number | null;
}

function stats(values: number[]): LatencyStats {
  return { samples: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: Math.max(...values) };
}

/** Per delta: first arrival whose cumulative length covers it, minus its send time. */
function latencies(sentAt: number[], arrivals: [number, number][]): number[] {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < sentAt.length; i++) {
    const end = FIRST.length + (i + 1) * TOKEN.length;
    while (j < arrivals.length && (arrivals[j] as [number, number])[1] < end) j++;
    if (j === arrivals.length) throw new Error(`delta ${i} never arrived`);
    out.push((arrivals[j] as [number, number])[0] - (sentAt[i] as number));
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneRate(server: BenchServer, fake: FakeModelServer, browser: Browser | null, offset: number, rate: number, seconds: number): Promise<LatencyRun> {
  const tokens = Math.round(rate * seconds);
  const gate = createGate();
  const requestIndex = fake.modelRequests.length;
  fake.enqueue({ kind: "stream", chunks: [FIRST, ...Array.from({ length: tokens }, () => TOKEN)], gate });
  const id = await server.run("one", `latency at ${rate} tokens/s`);
  const arrivals: [number, number][] = [];
  let sawFirst = () => {};
  const firstSeen = new Promise<void>((resolve) => (sawFirst = resolve));
  const viewer = await Viewer.open(server.wsUrl, id, {
    onOutput: (at, _stage, length) => {
      arrivals.push([at, length]);
      if (length >= FIRST.length) sawFirst();
    },
  });
  const page: Page | null = browser?.page ?? null;
  if (page) {
    await page.goto(`${server.url}/executions/${id}`);
    await showRawOutput(page, "write");
  }
  gate.release(1);
  const total = FIRST.length + tokens * TOKEN.length;
  await firstSeen;
  if (page) {
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent?.length ?? 0) >= 6, stageOutput("write"), { timeout: 20_000 });
    await page.evaluate((sel) => {
      // Every DOM change under the page: record when the stage's text grew, on the page's clock.
      const w = window as unknown as { __arrivals: [number, number][] };
      w.__arrivals = [];
      let last = -1;
      new MutationObserver(() => {
        const length = document.querySelector(sel)?.textContent?.length ?? 0;
        if (length !== last) {
          last = length;
          w.__arrivals.push([performance.timeOrigin + performance.now(), length]);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    }, stageOutput("write"));
  }
  // Paced release: at each tick, every token whose time has come (a 1 ms timer cannot do 5000/s one by one).
  const cpu0 = machineCpu();
  const t0 = performance.now();
  let released = 0;
  while (released < tokens) {
    const due = Math.min(tokens, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    if (due > released) {
      gate.release(due - released);
      released = due;
    }
    await sleep(1);
  }
  await viewer.done;
  const machineBusy = busyShare(cpu0, machineCpu());
  viewer.close();
  const sentAt = fake.sent.filter((s) => s.request === requestIndex && s.index > 0).map((s) => s.at);
  const span = (sentAt.at(-1) as number) - (sentAt[0] as number);
  let browserStats: LatencyStats | null = null;
  let pageWsStats: LatencyStats | null = null;
  if (page) {
    await page.waitForFunction(([sel, n]) => (document.querySelector(sel as string)?.textContent?.length ?? 0) >= (n as number), [stageOutput("write"), total], { timeout: 30_000 });
    const pageArrivals = await page.evaluate(() => (window as unknown as { __arrivals: [number, number][] }).__arrivals);
    browserStats = stats(latencies(sentAt, pageArrivals.map(([at, len]) => [at + offset, len])));
    const wsArrivals = await page.evaluate(() => (window as unknown as { __wsArrivals: [number, number][] }).__wsArrivals);
    pageWsStats = stats(latencies(sentAt, wsArrivals.filter(([, len]) => len >= FIRST.length).map(([at, len]) => [at + offset, len])));
  }
  return { targetRate: rate, achievedRate: Math.round(((sentAt.length - 1) * 1000) / span), tokens, ws: stats(latencies(sentAt, arrivals)), pageWs: pageWsStats, browser: browserStats, machineBusy };
}

export async function benchLatency(opts: { quick: boolean; browser?: boolean; log?: (line: string) => void }): Promise<LatencyResult> {
  const log = opts.log ?? console.log;
  const plan: [number, number][] = opts.quick ? [[50, 2], [500, 2], [5000, 1]] : [[50, 8], [500, 5], [5000, 3]];
  const dashboard = opts.browser === false ? { webDir: null, skipped: "not requested (--no-browser)" } : await prepareDashboard(log);
  const skipped = dashboard.skipped;
  let fake: FakeModelServer | undefined;
  let server: BenchServer | undefined;
  let browser: Browser | null = null;
  try {
    fake = await startFakeOpenAI();
    server = await startBenchServer({ modelUrl: fake.url, ...(dashboard.webDir ? { webDir: dashboard.webDir } : {}) });
    let offset: number | null = null;
    let browserSkipped = skipped;
    if (!skipped) {
      browser = await launchBrowser();
      await browser.context.addInitScript({ content: PAGE_WS_PROBE });
      await browser.page.goto(server.url);
      offset = await clockOffset(browser.page);
    }
    const runs: LatencyRun[] = [];
    for (const [rate, seconds] of plan) {
      try {
        runs.push(await oneRate(server, fake, browser, offset ?? 0, rate, seconds));
      } catch (err) {
        if (!browser) throw err;
        // The dashboard did not show the output as its test hooks promise: measure the server side alone.
        browserSkipped = `the dashboard did not show the stage output: ${(err as Error).message.split("\n")[0]}`;
        log(`  browser: ${browserSkipped}`);
        await browser.close();
        browser = null;
        runs.push(await oneRate(server, fake, null, 0, rate, seconds));
      }
      const r = runs.at(-1) as LatencyRun;
      log(`  ${rate} tokens/s: ws p99 ${r.ws.p99.toFixed(1)} ms${r.browser ? `, browser p99 ${r.browser.p99.toFixed(1)} ms` : ""}`);
    }
    return { runs, browserSkipped, clockOffsetMs: offset };
  } finally {
    await browser?.close();
    await server?.stop();
    await fake?.stop();
  }
}

/** The figure the budget is about: the browser's worst p99 when measured, else the WebSocket's. */
export function latencyP99(r: LatencyResult): number {
  const browser = r.runs.every((x) => x.browser) ? r.runs.map((x) => (x.browser as LatencyStats).p99) : null;
  return Math.max(...(browser ?? r.runs.map((x) => x.ws.p99)));
}

export function printLatency(r: LatencyResult, log = console.log): void {
  const f = (s: LatencyStats) => `p50 ${s.p50.toFixed(1)} / p95 ${s.p95.toFixed(1)} / p99 ${s.p99.toFixed(1)} / max ${s.max.toFixed(1)} ms (${s.samples} tokens)`;
  log("latency: token sent by the model → text received");
  for (const run of r.runs) {
    log(`  ${run.targetRate} tokens/s (achieved ${run.achievedRate}; machine ${(run.machineBusy * 100).toFixed(0)} % busy):`);
    log(`    WebSocket viewer: ${f(run.ws)}`);
    if (run.pageWs) log(`    page WebSocket:   ${f(run.pageWs)}`);
    log(`    browser DOM:      ${run.browser ? f(run.browser) : `not measured (${r.browserSkipped})`}`);
  }
  if (r.clockOffsetMs !== null) log(`  page clock offset corrected: ${r.clockOffsetMs.toFixed(2)} ms`);
  const source = r.runs.every((x) => x.browser) ? "browser" : "websocket";
  log(`latency_p99_ms=${latencyP99(r).toFixed(1)} latency_source=${source}`);
}

if (import.meta.main) printLatency(await benchLatency({ quick: quickFlag(), browser: !process.argv.includes("--no-browser") }));
