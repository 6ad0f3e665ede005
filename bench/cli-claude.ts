// Real Claude Code CLI as a stage model against the fake Anthropic server: chunks per stage and
// time from stage start to first chunk. `bun bench/cli-claude.ts [--quick]`
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { WireEvent } from "../src/protocol/events.ts";
import { startFakeAnthropic } from "../tests/helpers/fake-anthropic.ts";
import { claudeEnv } from "../tests/helpers/fake-cli/claude-env.ts";

const quick = process.argv.includes("--quick");
const runs = quick ? 2 : 5;
const CHUNKS = 20;
const fake = await startFakeAnthropic({
  default: { kind: "stream", chunks: Array.from({ length: CHUNKS }, (_, i) => `word${i} `), delayMs: 30 },
});
const dir = mkdtempSync(join(tmpdir(), "stagecast-bench-claude-"));
const ttfc: number[] = [];
const chunks: number[] = [];
for (let r = 0; r < runs; r++) {
  const proc = Bun.spawn(
    ["bun", resolve(import.meta.dir, "../src/cli/main.ts"), "run", "demo", "--mode", "cli", "--tool", "claude", "--input", "x", "--json"],
    {
      cwd: dir,
      stdout: "pipe",
      stderr: "inherit",
      env: { ...claudeEnv(join(dir, "home"), fake.url), STAGECAST_DATA_DIR: join(dir, "data") },
    },
  );
  const events = (await new Response(proc.stdout).text()).trim().split("\n").map((l) => JSON.parse(l) as WireEvent);
  await proc.exited;
  const started = new Map<string, number>();
  for (const e of events) {
    if (e.type === "stage:started") started.set(e.stage.id, e.ts);
    if (e.type === "stage:output" && e.output && started.has(e.stageId)) {
      ttfc.push(e.ts - started.get(e.stageId)!);
      started.delete(e.stageId);
    }
  }
  const perStage = new Map<string, number>();
  for (const e of events) if (e.type === "stage:output" && e.output) perStage.set(e.stageId, (perStage.get(e.stageId) ?? 0) + 1);
  chunks.push(...perStage.values());
}
await fake.stop();
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`claude CLI: ${runs} runs × 3 stages, fake sends ${CHUNKS} chunks 30 ms apart`);
console.log(`  time to first chunk (stage start → first stage:output): median ${median(ttfc)} ms, max ${Math.max(...ttfc)} ms`);
console.log(`  stage:output events per stage: median ${median(chunks)}, min ${Math.min(...chunks)}`);
console.log(`cli_ttfc_ms=${median(ttfc)} cli_chunks_per_stage=${median(chunks)}`);
