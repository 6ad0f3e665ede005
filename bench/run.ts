// `bun run bench [-- --quick]`: every benchmark in turn, its figures printed as it finishes, then one
// summary line and BENCHMARKS.md's figures block rewritten (the hand-written method stays as it is).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { benchBrowserRender, printBrowserRender, type RenderResult } from "./browser-render.ts";
import { benchCliClaude, printCliClaude, type CliClaudeResult } from "./cli-claude.ts";
import { benchFanout, printFanout, type FanoutResult } from "./fanout.ts";
import { benchLatency, printLatency, type LatencyResult } from "./latency.ts";
import { benchLocalModel, printLocalModel, type LocalModelResult } from "./local-model.ts";
import { benchMemory, printMemory, type MemoryResult } from "./memory.ts";
import { benchOverhead, printOverhead, type OverheadResult } from "./overhead.ts";
import { renderFigures, type Figures } from "./report.ts";

const quick = process.argv.includes("--quick");
const noBrowser = process.argv.includes("--no-browser");
const DOC = resolve(import.meta.dir, "..", "BENCHMARKS.md");
// A full run and a --quick run each own a block, so a quick check never replaces the full figures.
const FULL = { start: "<!-- figures:start (written by bun run bench; do not edit by hand) -->", end: "<!-- figures:end -->" };
const QUICK = { start: "<!-- quick-figures:start (written by bun run bench -- --quick; do not edit by hand) -->", end: "<!-- quick-figures:end -->" };
const { start: START, end: END } = quick ? QUICK : FULL;

const errors: string[] = [];
async function step<T>(name: string, run: () => Promise<T>, print: (r: T) => void): Promise<T | null> {
  console.log(`\n== ${name} ==`);
  const t0 = performance.now();
  try {
    const result = await run();
    print(result);
    console.log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  } catch (err) {
    const message = `${name}: ${err instanceof Error ? err.message : String(err)}`;
    errors.push(message);
    console.error(`  FAILED: ${message}`);
    return null;
  }
}

const began = performance.now();
console.log(`stagecast benchmarks (${quick ? "--quick: reduced sizes" : "full sizes"})`);
const latency = await step<LatencyResult>("latency", () => benchLatency({ quick, browser: !noBrowser }), (r) => printLatency(r));
const overhead = await step<OverheadResult>("overhead", () => benchOverhead({ quick }), (r) => printOverhead(r));
const fanout = await step<FanoutResult>("fan-out", () => benchFanout({ quick }), (r) => printFanout(r));
const memory = await step<MemoryResult>("memory", () => benchMemory({ quick }), (r) => printMemory(r));
const render = noBrowser
  ? ({ runs: [], skipped: "not requested (--no-browser)" } satisfies RenderResult)
  : await step<RenderResult>("browser render", () => benchBrowserRender({ quick }), (r) => printBrowserRender(r));
const local = await step<LocalModelResult>("local model", () => benchLocalModel({ quick }), (r) => printLocalModel(r));
// The real Claude Code CLI takes seconds per run to start: full runs only.
const claude = quick ? null : await step<CliClaudeResult>("claude CLI", () => benchCliClaude({ quick }), (r) => printCliClaude(r));

const commit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: resolve(import.meta.dir, ".."), encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();
const figures: Figures = {
  quick,
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 1024 ** 3)} GB RAM, Linux ${release()}, Bun ${Bun.version}`,
  commit,
  wallSeconds: Math.round((performance.now() - began) / 1000),
  latency,
  overhead,
  fanout,
  memory,
  render,
  local,
  claude,
  errors,
};
const { markdown, summary } = renderFigures(figures);

const block = `${START}\n${markdown}\n${END}`;
const doc = existsSync(DOC) ? readFileSync(DOC, "utf8") : `# Benchmarks\n\n${FULL.start}\n(not yet run)\n${FULL.end}\n`;
const at = doc.indexOf(START);
const end = doc.indexOf(END);
const fullEnd = doc.indexOf(FULL.end);
let next: string;
if (at >= 0 && end > at) next = `${doc.slice(0, at)}${block}${doc.slice(end + END.length)}`;
else if (quick && fullEnd >= 0) {
  // The first quick run: its block goes right after the full figures, under its own heading.
  const after = fullEnd + FULL.end.length;
  next = `${doc.slice(0, after)}\n\n### Latest quick run (reduced sizes)\n\n${block}${doc.slice(after)}`;
} else next = `${doc.trimEnd()}\n\n${block}\n`;
writeFileSync(DOC, next);
console.log(`\nfigures written to ${join("BENCHMARKS.md")} (${figures.wallSeconds} s in all)`);
console.log(summary);
process.exit(errors.length > 0 ? 1 : 0);
