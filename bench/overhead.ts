// Overhead of live streaming: the same pipeline's wall time with 10 WebSocket viewers attached and
// with none, from interleaved runs (A B B A …, so drift on a shared machine hits both alike). The
// wall time is the server's own: execution:started → the final event, both stamped by the executor.
// Usage: bun bench/overhead.ts [--quick]
import { type Child, median, quickFlag, startBenchServer, startFakeModelProcess } from "./lib/proc.ts";
import { Viewer, Watcher } from "./lib/viewer.ts";

export interface OverheadResult {
  pairs: number;
  viewers: number;
  chunksPerStage: number;
  chunkDelayMs: number;
  withViewersMs: number[];
  withoutViewersMs: number[];
  /** median(with) / median(without) */
  ratio: number;
  /** median of the per-pair ratios */
  pairRatio: number;
  lostEvents: number;
}

export async function benchOverhead(opts: { quick: boolean; log?: (line: string) => void }): Promise<OverheadResult> {
  const log = opts.log ?? console.log;
  const pairs = opts.quick ? 6 : 20;
  const viewers = 10;
  const chunksPerStage = 100;
  const chunkDelayMs = 5;
  const chunks = Array.from({ length: chunksPerStage }, (_, i) => `token${i} lorem ipsum dolor `);
  let fake: Child | undefined;
  let server: Awaited<ReturnType<typeof startBenchServer>> | undefined;
  let watcher: Watcher | undefined;
  try {
    fake = await startFakeModelProcess(chunks, chunkDelayMs);
    server = await startBenchServer({ modelUrl: fake.url });
    watcher = await Watcher.open(server.wsUrl);
    const withMs: number[] = [];
    const withoutMs: number[] = [];
    let lost = 0;
    const once = async (attach: boolean): Promise<number> => {
      const s = server as NonNullable<typeof server>;
      const id = await s.run("two", attach ? "with viewers" : "without viewers");
      // Subscribed right after the start: replay covers anything emitted before a viewer joined.
      const vs = attach ? await Promise.all(Array.from({ length: viewers }, () => Viewer.open(s.wsUrl, id))) : [];
      await (watcher as Watcher).ended(id);
      await Promise.all(vs.map((v) => v.done));
      for (const v of vs) {
        lost += v.lost + v.outOfOrder + v.offsetErrors;
        v.close();
      }
      const snap = (await (await fetch(`${s.url}/api/executions/${id}`)).json()) as { status: string; startedAt: number; endedAt: number };
      if (snap.status !== "success") throw new Error(`overhead run ${id} ended ${snap.status}`);
      return snap.endedAt - snap.startedAt;
    };
    await once(false); // warm-up: module loading and JIT, not counted
    await once(true);
    for (let i = 0; i < pairs; i++) {
      // ABBA order cancels a linear drift within each pair of pairs.
      const order = i % 2 === 0 ? [true, false] : [false, true];
      for (const attach of order) (attach ? withMs : withoutMs).push(await once(attach));
      log(`  pair ${i + 1}/${pairs}: with ${withMs.at(-1)} ms, without ${withoutMs.at(-1)} ms`);
    }
    const ratio = median(withMs) / median(withoutMs);
    const pairRatio = median(withMs.map((w, i) => w / (withoutMs[i] as number)));
    return { pairs, viewers, chunksPerStage, chunkDelayMs, withViewersMs: withMs, withoutViewersMs: withoutMs, ratio, pairRatio, lostEvents: lost };
  } finally {
    watcher?.close();
    await server?.stop();
    await fake?.stop();
  }
}

export function printOverhead(r: OverheadResult, log = console.log): void {
  log(`overhead: ${r.pairs} interleaved pairs, pipeline of 2 stages × ${r.chunksPerStage} deltas ${r.chunkDelayMs} ms apart`);
  log(`  wall time with ${r.viewers} viewers: median ${median(r.withViewersMs)} ms; with none: median ${median(r.withoutViewersMs)} ms`);
  log(`  ratio (median/median) ${r.ratio.toFixed(4)}, median per-pair ratio ${r.pairRatio.toFixed(4)}; budget < 1.01`);
  log(`overhead_ratio=${r.ratio.toFixed(4)}`);
}

if (import.meta.main) printOverhead(await benchOverhead({ quick: quickFlag() }));
