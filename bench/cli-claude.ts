// Real Claude Code CLI as a stage model against the fake Anthropic server: chunks per stage and
// time from stage start to first chunk. `bun bench/cli-claude.ts [--quick]`
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { WireEvent } from "../src/protocol/events.ts";
import { startFakeAnthropic } from "../tests/helpers/fake-anthropic.ts";
import { median, quickFlag } from "./lib/proc.ts";

const CHUNKS = 20;

export interface CliClaudeResult {
  runs: number;
  ttfcMedianMs: number;
  ttfcMaxMs: number;
  chunksPerStageMedian: number;
  chunksPerStageMin: number;
}

export async function benchCliClaude(opts: { quick: boolean }): Promise<CliClaudeResult> {
  const runs = opts.quick ? 2 : 5;
  const fake = await startFakeAnthropic({
    default: { kind: "stream", chunks: Array.from({ length: CHUNKS }, (_, i) => `word${i} `), delayMs: 30 },
  });
  const dir = mkdtempSync(join(tmpdir(), "stagecast-bench-claude-"));
  mkdirSync(join(dir, "home", ".claude"), { recursive: true });
  const ttfc: number[] = [];
  const chunks: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const proc = Bun.spawn(
        ["bun", resolve(import.meta.dir, "../src/cli/main.ts"), "run", "demo", "--mode", "cli", "--tool", "claude", "--input", "x", "--json"],
        {
          cwd: dir,
          stdout: "pipe",
          stderr: "inherit",
          env: {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            HOME: join(dir, "home"),
            CLAUDE_CONFIG_DIR: join(dir, "home", ".claude"),
            ANTHROPIC_BASE_URL: fake.url,
            ANTHROPIC_API_KEY: "sk-bench",
            DISABLE_TELEMETRY: "1",
            DISABLE_AUTOUPDATER: "1",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
            STAGECAST_CLAUDE_BIN: resolve(import.meta.dir, "../node_modules/.bin/claude"),
            STAGECAST_DATA_DIR: join(dir, "data"),
          },
        },
      );
      const events = (await new Response(proc.stdout).text()).trim().split("\n").map((l) => JSON.parse(l) as WireEvent);
      await proc.exited;
      const started = new Map<string, number>();
      for (const e of events) {
        if (e.type === "stage:started") started.set(e.stage.id, e.ts);
        if (e.type === "stage:output" && e.output && started.has(e.stageId)) {
          ttfc.push(e.ts - (started.get(e.stageId) as number));
          started.delete(e.stageId);
        }
      }
      const perStage = new Map<string, number>();
      for (const e of events) if (e.type === "stage:output" && e.output) perStage.set(e.stageId, (perStage.get(e.stageId) ?? 0) + 1);
      chunks.push(...perStage.values());
    }
  } finally {
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { runs, ttfcMedianMs: median(ttfc), ttfcMaxMs: Math.max(...ttfc), chunksPerStageMedian: median(chunks), chunksPerStageMin: Math.min(...chunks) };
}

export function printCliClaude(r: CliClaudeResult, log = console.log): void {
  log(`claude CLI: ${r.runs} runs × 3 stages, fake sends ${CHUNKS} chunks 30 ms apart`);
  log(`  time to first chunk (stage start → first stage:output): median ${r.ttfcMedianMs} ms, max ${r.ttfcMaxMs} ms`);
  log(`  stage:output events per stage: median ${r.chunksPerStageMedian}, min ${r.chunksPerStageMin}`);
  log(`cli_ttfc_ms=${r.ttfcMedianMs} cli_chunks_per_stage=${r.chunksPerStageMedian}`);
}

if (import.meta.main) printCliClaude(await benchCliClaude({ quick: quickFlag() }));
