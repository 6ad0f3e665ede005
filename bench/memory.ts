// Memory: many executions of 1 MB of output each. The server's RSS is sampled after every batch and
// its slope (KB per execution) fitted after a warm-up; no execution may hold more than 100 KB of
// output in memory. What a running execution holds is exactly its snapshot's `output` fields (the
// in-memory tail is the server's only copy), so a probe viewer asks for the snapshot once the stage
// has streamed well past 100 KB.
// Usage: bun bench/memory.ts [--quick]
import { type BenchServer, type Child, procStats, quickFlag, slope, startBenchServer, startFakeModelProcess, utf8Bytes } from "./lib/proc.ts";
import { Viewer, Watcher } from "./lib/viewer.ts";

const BUDGET_BYTES = 102_400;
const OUTPUT_BYTES = 1024 * 1024;

export interface MemoryResult {
  executions: number;
  outputBytesEach: number;
  rssSamples: { executions: number; rssKb: number }[];
  /** KB of RSS per execution after the warm-up fifth */
  slopeKbPerExecution: number;
  rssFirstKb: number;
  rssLastKb: number;
  rssPeakKb: number;
  probes: number;
  /** the most output bytes any probed running execution held */
  maxHeldBytes: number;
  /** the most output bytes any ended execution's snapshot held (tail rebuilt from the log) */
  maxEndedHeldBytes: number;
  fullOutputsChecked: number;
  failures: number;
  wallMs: number;
}

export async function benchMemory(opts: { quick: boolean; log?: (line: string) => void }): Promise<MemoryResult> {
  const log = opts.log ?? console.log;
  const executions = opts.quick ? 100 : 500;
  const batch = 10;
  // 256 deltas of 4 KB: 1 MB of ASCII, each delta tagged so a wrong order would show in the text.
  const chunks = Array.from({ length: OUTPUT_BYTES / 4096 }, (_, i) => `${String(i).padStart(6, "0")}${"m".repeat(4090)}`);
  const full = chunks.join("");
  let fake: Child | undefined;
  let server: BenchServer | undefined;
  let watcher: Watcher | undefined;
  try {
    // 1 ms between deltas: a run lasts ~0.3 s, long enough to be probed while live.
    fake = await startFakeModelProcess(chunks, 1);
    server = await startBenchServer({ modelUrl: fake.url, maxConcurrent: 4 });
    watcher = await Watcher.open(server.wsUrl);
    const samples: { executions: number; rssKb: number }[] = [{ executions: 0, rssKb: procStats(server.pid).rssKb }];
    let maxHeld = 0;
    let maxEndedHeld = 0;
    let probes = 0;
    let failures = 0;
    let fullChecked = 0;
    const t0 = performance.now();
    for (let done = 0; done < executions; done += batch) {
      const s = server;
      const ids = await Promise.all(Array.from({ length: batch }, (_, i) => s.run("one", `memory ${done + i}`)));
      // One probe per batch: snapshot the first run while it is live, past 300 KB streamed.
      const probeId = ids[0] as string;
      let probe: Promise<void> = Promise.resolve();
      let fired = false;
      const viewer = await Viewer.open(s.wsUrl, probeId, {
        onOutput: (_at, _stage, length) => {
          if (fired || length < 300 * 1024) return;
          fired = true;
          probe = fetch(`${s.url}/api/executions/${probeId}`)
            .then((r) => r.json() as Promise<{ status: string; stages: { output: string }[] }>)
            .then((snap) => {
              if (snap.status !== "running") return; // ended before the request was served: not a live probe
              probes++;
              maxHeld = Math.max(maxHeld, snap.stages.reduce((n, st) => n + utf8Bytes(st.output), 0));
            });
        },
      });
      const ended = await Promise.all(ids.map((id) => (watcher as Watcher).ended(id)));
      await viewer.done;
      await probe;
      viewer.close();
      failures += ended.filter((e) => e.status !== "success").length;
      for (const id of ids) watcher.forget(id);
      // Ended executions: the held tail is rebuilt from the log and must still be within budget.
      const snap = (await (await fetch(`${s.url}/api/executions/${ids.at(-1)}`)).json()) as { stages: { output: string }[] };
      maxEndedHeld = Math.max(maxEndedHeld, snap.stages.reduce((n, st) => n + utf8Bytes(st.output), 0));
      if ((done / batch) % 5 === 0) {
        // Now and then the whole 1 MB back from disk, byte for byte.
        const text = await (await fetch(`${s.url}/api/executions/${ids[1]}/stages/write/output`)).text();
        if (text !== full) failures++;
        fullChecked++;
      }
      samples.push({ executions: done + batch, rssKb: procStats(s.pid).rssKb });
      if ((done + batch) % 100 === 0) log(`  ${done + batch}/${executions} executions, server RSS ${Math.round((samples.at(-1) as { rssKb: number }).rssKb / 1024)} MB`);
    }
    const wallMs = Math.round(performance.now() - t0);
    const fitted = samples.slice(Math.ceil(samples.length / 5));
    const stats = procStats(server.pid);
    return {
      executions,
      outputBytesEach: OUTPUT_BYTES,
      rssSamples: samples,
      slopeKbPerExecution: slope(fitted.map((p) => ({ x: p.executions, y: p.rssKb }))),
      rssFirstKb: (fitted[0] as { rssKb: number }).rssKb,
      rssLastKb: (samples.at(-1) as { rssKb: number }).rssKb,
      rssPeakKb: stats.hwmKb,
      probes,
      maxHeldBytes: maxHeld,
      maxEndedHeldBytes: maxEndedHeld,
      fullOutputsChecked: fullChecked,
      failures,
      wallMs,
    };
  } finally {
    watcher?.close();
    await server?.stop();
    await fake?.stop();
  }
}

export function printMemory(r: MemoryResult, log = console.log): void {
  log(`memory: ${r.executions} executions × ${r.outputBytesEach / 1024 / 1024} MB of output, 4 at a time, in ${r.wallMs} ms`);
  log(`  server RSS ${Math.round(r.rssFirstKb / 1024)} MB after warm-up → ${Math.round(r.rssLastKb / 1024)} MB at the end (peak ${Math.round(r.rssPeakKb / 1024)} MB); slope ${r.slopeKbPerExecution.toFixed(1)} KB per execution`);
  log(`  held output: max ${r.maxHeldBytes} bytes in ${r.probes} live probes, max ${r.maxEndedHeldBytes} bytes after the end; budget ${BUDGET_BYTES}`);
  log(`  full outputs read back byte for byte: ${r.fullOutputsChecked}; failures ${r.failures}`);
  log(`memory_slope_kb_per_exec=${r.slopeKbPerExecution.toFixed(1)} memory_max_held_bytes=${r.maxHeldBytes} memory_rss_end_mb=${Math.round(r.rssLastKb / 1024)}`);
}

if (import.meta.main) {
  const r = await benchMemory({ quick: quickFlag() });
  printMemory(r);
  console.log(`  RSS samples (executions:MB): ${r.rssSamples.map((s) => `${s.executions}:${Math.round(s.rssKb / 1024)}`).join(" ")}`);
}
