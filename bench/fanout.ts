// Fan-out: many concurrent executions, each watched by many WebSocket viewers, every stage streaming.
// Every viewer checks every event (seq contiguous, offsets contiguous) and its final text length;
// the server's CPU time and peak RSS come from /proc of its own process.
// Usage: bun bench/fanout.ts [--quick]
import { type BenchServer, type Child, procStats, quickFlag, startBenchServer, startFakeModelProcess } from "./lib/proc.ts";
import { Viewer, Watcher } from "./lib/viewer.ts";

export interface FanoutResult {
  executions: number;
  viewersPerExecution: number;
  chunksPerStage: number;
  eventsDelivered: number;
  lostEvents: number;
  outOfOrder: number;
  textMismatches: number;
  slowConsumerResubscribes: number;
  wallMs: number;
  serverCpuMs: number;
  /** server CPU time / wall time, as a share of one core */
  serverCpuCores: number;
  serverRssStartKb: number;
  serverRssPeakKb: number;
}

export async function benchFanout(opts: { quick: boolean; log?: (line: string) => void }): Promise<FanoutResult> {
  const log = opts.log ?? console.log;
  const executions = opts.quick ? 10 : 50;
  const viewersPerExecution = opts.quick ? 5 : 20;
  const chunksPerStage = opts.quick ? 100 : 200;
  const chunks = Array.from({ length: chunksPerStage }, (_, i) => `tok${i} ${"x".repeat(40)} `);
  const stageLength = chunks.join("").length;
  let fake: Child | undefined;
  let server: BenchServer | undefined;
  let watcher: Watcher | undefined;
  const viewers: Viewer[] = [];
  try {
    fake = await startFakeModelProcess(chunks, 5);
    server = await startBenchServer({ modelUrl: fake.url, maxConcurrent: executions });
    watcher = await Watcher.open(server.wsUrl);
    // Warm the server (module loading, JIT) before the measured window.
    const warm = await server.run("one", "warm-up");
    await watcher.ended(warm);
    const before = procStats(server.pid);
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: executions }, (_, i) => (server as BenchServer).run("two", `fan-out ${i}`)));
    for (const id of ids) {
      for (let v = 0; v < viewersPerExecution; v++) viewers.push(await Viewer.open(server.wsUrl, id));
    }
    await Promise.all(ids.map((id) => (watcher as Watcher).ended(id)));
    await Promise.all(viewers.map((v) => v.done));
    const wallMs = performance.now() - t0;
    const after = procStats(server.pid);
    let textMismatches = 0;
    for (const v of viewers) {
      if (v.finalType !== "execution:completed" || v.lengths.get("draft") !== stageLength || v.lengths.get("polish") !== stageLength) textMismatches++;
    }
    const sum = (f: (v: Viewer) => number) => viewers.reduce((n, v) => n + f(v), 0);
    const result: FanoutResult = {
      executions,
      viewersPerExecution,
      chunksPerStage,
      eventsDelivered: sum((v) => v.received),
      lostEvents: sum((v) => v.lost),
      outOfOrder: sum((v) => v.outOfOrder + v.offsetErrors),
      textMismatches,
      slowConsumerResubscribes: sum((v) => v.slowConsumer),
      wallMs: Math.round(wallMs),
      serverCpuMs: after.cpuMs - before.cpuMs,
      serverCpuCores: (after.cpuMs - before.cpuMs) / wallMs,
      serverRssStartKb: before.rssKb,
      serverRssPeakKb: after.hwmKb,
    };
    log(`  fan-out done in ${result.wallMs} ms`);
    return result;
  } finally {
    for (const v of viewers) v.close();
    watcher?.close();
    await server?.stop();
    await fake?.stop();
  }
}

export function printFanout(r: FanoutResult, log = console.log): void {
  log(`fan-out: ${r.executions} concurrent executions × ${r.viewersPerExecution} viewers, 2 stages × ${r.chunksPerStage} deltas each`);
  log(`  events delivered ${r.eventsDelivered}, lost ${r.lostEvents}, out of order ${r.outOfOrder}, wrong text ${r.textMismatches}, slow-consumer resubscribes ${r.slowConsumerResubscribes}`);
  log(`  server CPU ${Math.round(r.serverCpuMs)} ms over ${r.wallMs} ms (${(r.serverCpuCores * 100).toFixed(0)} % of a core); RSS ${Math.round(r.serverRssStartKb / 1024)} MB before, peak ${Math.round(r.serverRssPeakKb / 1024)} MB`);
  log(`fanout_delivered=${r.eventsDelivered} fanout_lost=${r.lostEvents} fanout_out_of_order=${r.outOfOrder} fanout_server_cpu_pct=${(r.serverCpuCores * 100).toFixed(0)} fanout_server_rss_peak_mb=${Math.round(r.serverRssPeakKb / 1024)}`);
}

if (import.meta.main) printFanout(await benchFanout({ quick: quickFlag() }));
