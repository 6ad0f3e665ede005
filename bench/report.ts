// Turns the benchmarks' results into BENCHMARKS.md's figures block and the one-line summary, and
// judges each ARCHITECTURE.md budget: met, missed (with the figure), or not measured (with why).
import type { CliClaudeResult } from "./cli-claude.ts";
import type { FanoutResult } from "./fanout.ts";
import { latencyP99, type LatencyResult, type LatencyStats } from "./latency.ts";
import type { LocalModelResult } from "./local-model.ts";
import type { MemoryResult } from "./memory.ts";
import type { OverheadResult } from "./overhead.ts";
import type { RenderResult } from "./browser-render.ts";

export interface Figures {
  quick: boolean;
  date: string;
  machine: string;
  commit: string;
  wallSeconds: number;
  latency: LatencyResult | null;
  overhead: OverheadResult | null;
  fanout: FanoutResult | null;
  memory: MemoryResult | null;
  render: RenderResult | null;
  local: LocalModelResult | null;
  claude: CliClaudeResult | null;
  errors: string[];
}

type Verdict = "met" | "MISSED" | "not measured";

const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;

function budgets(f: Figures): { budget: string; figure: string; verdict: Verdict }[] {
  const rows: { budget: string; figure: string; verdict: Verdict }[] = [];
  const l = f.latency;
  if (!l) rows.push({ budget: "token → browser p99 < 50 ms", figure: "benchmark failed", verdict: "not measured" });
  else {
    const p99 = latencyP99(l);
    const browser = l.runs.every((r) => r.browser);
    rows.push({
      budget: "token → browser p99 < 50 ms",
      figure: browser ? `${ms(p99)} (worst rate, DOM)` : `browser not measured (${l.browserSkipped}); server side (token → WebSocket viewer) p99 ${ms(p99)}`,
      verdict: browser ? (p99 < 50 ? "met" : "MISSED") : "not measured",
    });
  }
  const o = f.overhead;
  rows.push(
    o
      ? { budget: "streaming with 10 viewers adds < 1 % wall time", figure: `ratio ${o.ratio.toFixed(4)} (per-pair median ${o.pairRatio.toFixed(4)})`, verdict: o.ratio < 1.01 ? "met" : "MISSED" }
      : { budget: "streaming with 10 viewers adds < 1 % wall time", figure: "benchmark failed", verdict: "not measured" },
  );
  const x = f.fanout;
  rows.push(
    x
      ? { budget: "fan-out loses nothing, keeps order", figure: `${x.lostEvents} lost, ${x.outOfOrder} out of order, ${x.textMismatches} wrong texts of ${x.eventsDelivered} events`, verdict: x.lostEvents === 0 && x.outOfOrder === 0 && x.textMismatches === 0 ? "met" : "MISSED" }
      : { budget: "fan-out loses nothing, keeps order", figure: "benchmark failed", verdict: "not measured" },
  );
  const m = f.memory;
  rows.push(
    m
      ? { budget: "≤ 100 KB (102,400 bytes) of output held per execution", figure: `max ${m.maxHeldBytes} bytes live (${m.probes} probes), ${m.maxEndedHeldBytes} after the end`, verdict: m.probes > 0 && Math.max(m.maxHeldBytes, m.maxEndedHeldBytes) <= 102_400 ? "met" : m.probes === 0 ? "not measured" : "MISSED" }
      : { budget: "≤ 100 KB (102,400 bytes) of output held per execution", figure: "benchmark failed", verdict: "not measured" },
  );
  const r = f.render;
  const one = r?.runs[0];
  rows.push(
    one
      ? {
          budget: "1 MB output: no main-thread task > 50 ms, no layout shift outside the output",
          figure: `longest task ${one.longTasks ? `${one.longestTaskMs} ms` : "none over 50 ms"}, max frame gap ${one.maxFrameGapMs} ms, ${one.shiftsOutsideOutput} shifts outside`,
          verdict: one.longTasks === 0 && one.shiftsOutsideOutput === 0 ? "met" : "MISSED",
        }
      : { budget: "1 MB output: no main-thread task > 50 ms, no layout shift outside the output", figure: r?.skipped ?? "benchmark failed", verdict: "not measured" },
  );
  return rows;
}

export function renderFigures(f: Figures): { markdown: string; summary: string } {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  push(
    `Run: ${f.date}, commit ${f.commit}, ${f.quick ? "`bun run bench -- --quick` (reduced sizes, named below)" : "`bun run bench` (full sizes)"}, ${f.wallSeconds} s.`,
    `Machine: ${f.machine}.`,
    "",
    "### Budgets (ARCHITECTURE.md)",
    "",
    "| budget | figure | verdict |",
    "|---|---|---|",
    ...budgets(f).map((b) => `| ${b.budget} | ${b.figure} | **${b.verdict}** |`),
    "",
  );
  if (f.errors.length) push("### Benchmarks that failed to run", "", ...f.errors.map((e) => `- ${e}`), "");

  push("### Latency: token sent by the model → text received", "");
  if (f.latency) {
    const s = (x: LatencyStats | null) => (x ? `${ms(x.p50)} / ${ms(x.p95)} / ${ms(x.p99)} / ${ms(x.max)}` : "not measured");
    push(
      "| rate (tokens/s, achieved) | tokens | machine busy | WebSocket viewer (bench process) p50 / p95 / p99 / max | page's WebSocket | browser DOM |",
      "|---|---|---|---|---|---|",
    );
    for (const r of f.latency.runs) push(`| ${r.targetRate} (${r.achievedRate}) | ${r.tokens} | ${(r.machineBusy * 100).toFixed(0)} % | ${s(r.ws)} | ${s(r.pageWs)} | ${s(r.browser)} |`);
    if (f.latency.browserSkipped) push("", `Browser not measured: ${f.latency.browserSkipped}.`);
    if (f.latency.clockOffsetMs !== null) push("", `Page clock offset (corrected): ${f.latency.clockOffsetMs.toFixed(2)} ms.`);
  } else push("Not measured (the benchmark failed).");
  push("");

  push("### Overhead of live streaming", "");
  if (f.overhead) {
    const o = f.overhead;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    push(
      `${o.pairs} interleaved pairs (ABBA), pipeline of 2 stages × ${o.chunksPerStage} deltas ${o.chunkDelayMs} ms apart, ${o.viewers} viewers vs none.`,
      "",
      `| | median wall time | all runs (ms) |`,
      `|---|---|---|`,
      `| ${o.viewers} viewers | ${med(o.withViewersMs)} ms | ${o.withViewersMs.join(", ")} |`,
      `| no viewer | ${med(o.withoutViewersMs)} ms | ${o.withoutViewersMs.join(", ")} |`,
      "",
      `Ratio (median / median): **${o.ratio.toFixed(4)}**; median of per-pair ratios ${o.pairRatio.toFixed(4)}. Events lost by the viewers: ${o.lostEvents}.`,
    );
  } else push("Not measured (the benchmark failed).");
  push("");

  push("### Fan-out", "");
  if (f.fanout) {
    const x = f.fanout;
    push(
      `${x.executions} concurrent executions × ${x.viewersPerExecution} WebSocket viewers each, 2 stages × ${x.chunksPerStage} deltas 5 ms apart per execution.`,
      "",
      "| events delivered | lost | out of order | wrong text | slow-consumer resubscribes | wall | server CPU | server RSS before → peak |",
      "|---|---|---|---|---|---|---|---|",
      `| ${x.eventsDelivered} | ${x.lostEvents} | ${x.outOfOrder} | ${x.textMismatches} | ${x.slowConsumerResubscribes} | ${x.wallMs} ms | ${Math.round(x.serverCpuMs)} ms (${(x.serverCpuCores * 100).toFixed(0)} % of a core) | ${mb(x.serverRssStartKb)} → ${mb(x.serverRssPeakKb)} |`,
    );
  } else push("Not measured (the benchmark failed).");
  push("");

  push("### Memory", "");
  if (f.memory) {
    const m = f.memory;
    push(
      `${m.executions} executions × ${m.outputBytesEach / 1024 / 1024} MB of output, 4 running at a time, ${(m.wallMs / 1000).toFixed(1)} s.`,
      "",
      `- Server RSS after the warm-up fifth ${mb(m.rssFirstKb)} → ${mb(m.rssLastKb)} at the end (peak ${mb(m.rssPeakKb)}); fitted slope **${m.slopeKbPerExecution.toFixed(1)} KB per execution** (${((m.slopeKbPerExecution * m.executions) / 1024).toFixed(1)} MB over the run, against ${m.executions} MB of output streamed).`,
      `- RSS samples (executions: MB): ${m.rssSamples.map((s) => `${s.executions}: ${Math.round(s.rssKb / 1024)}`).join(", ")}.`,
      `- Output held in memory: max **${m.maxHeldBytes} bytes** in ${m.probes} snapshots of live executions taken past 300 KB streamed; ${m.maxEndedHeldBytes} bytes for ended ones (budget 102,400).`,
      `- Full outputs read back byte for byte through REST: ${m.fullOutputsChecked}; failed executions or mismatches: ${m.failures}.`,
    );
  } else push("Not measured (the benchmark failed).");
  push("");

  push("### Browser rendering of a large output", "");
  if (f.render && f.render.runs.length > 0) {
    push("| output | longest task while streaming (Long Tasks API, > 50 ms only) | during page load (not budgeted) | max frame gap while streaming | layout shifts outside output (CLS) | DOM nodes | JS heap after GC | stream → completed |", "|---|---|---|---|---|---|---|---|");
    for (const r of f.render.runs) {
      push(`| ${(r.outputBytes / 1024 / 1024).toFixed(1)} MB | ${r.longTasks ? `${r.longestTaskMs} ms (${r.longTasks} tasks)` : "none"} | ${r.loadLongestTaskMs ? `${r.loadLongestTaskMs} ms` : "none"} | ${r.maxFrameGapMs} ms | ${r.shiftsOutsideOutput}${r.shiftedOutside.length ? ` (${r.shiftedOutside.map((n) => `\`${n}\``).join(", ")})` : ""}, CLS ${r.layoutShiftScore.toFixed(3)} | ${r.domNodes} | ${r.heapUsedMb} MB | ${r.renderWallMs} ms |`);
    }
  } else push(`Not measured: ${f.render?.skipped ?? "the benchmark failed"}.`);
  push("");

  push("### Local model (demo GGUF, in process)", "");
  if (f.local && !f.local.skipped) {
    const l = f.local;
    push(`${l.model?.split("/").at(-1)}, ${l.runs} prompts of up to 96 tokens: load ${l.loadMs} ms, time to first token median **${l.ttftMedianMs} ms** (p90 ${l.ttftP90Ms} ms), decode median **${l.tokensPerSecondMedian} tokens/s**.`);
  } else push(`Not measured: ${f.local?.skipped ?? "the benchmark failed"}.`);
  push("");
  if (f.claude) {
    const c = f.claude;
    push("### Claude Code CLI as a stage model (fake Anthropic server)", "", `${c.runs} runs × 3 stages: stage start → first chunk median ${c.ttfcMedianMs} ms (max ${c.ttfcMaxMs} ms); stage:output events per stage median ${c.chunksPerStageMedian} (min ${c.chunksPerStageMin}).`, "");
  }

  const verdicts = budgets(f);
  const lost = (f.fanout?.lostEvents ?? Number.NaN) + (f.overhead?.lostEvents ?? 0);
  const n = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? "na" : v.toFixed(digits));
  const summary = [
    `latency_p99_ms=${f.latency ? n(latencyP99(f.latency)) : "na"}`,
    `latency_source=${f.latency ? (f.latency.runs.every((r) => r.browser) ? "browser" : "websocket") : "na"}`,
    `overhead_ratio=${n(f.overhead?.ratio, 4)}`,
    `lost_events=${Number.isNaN(lost) ? "na" : lost}`,
    `out_of_order=${f.fanout ? f.fanout.outOfOrder : "na"}`,
    `fanout_events=${f.fanout?.eventsDelivered ?? "na"}`,
    `fanout_server_cpu_pct=${f.fanout ? (f.fanout.serverCpuCores * 100).toFixed(0) : "na"}`,
    `fanout_server_rss_peak_mb=${f.fanout ? Math.round(f.fanout.serverRssPeakKb / 1024) : "na"}`,
    `memory_slope_kb_per_exec=${n(f.memory?.slopeKbPerExecution)}`,
    `max_held_bytes=${f.memory ? Math.max(f.memory.maxHeldBytes, f.memory.maxEndedHeldBytes) : "na"}`,
    `render_1mb_longest_task_ms=${f.render?.runs[0] ? (f.render.runs[0].longTasks ? f.render.runs[0].longestTaskMs : "<50") : "na"}`,
    `local_ttft_ms=${f.local && !f.local.skipped ? f.local.ttftMedianMs : "na"}`,
    `local_tokens_per_s=${f.local && !f.local.skipped ? f.local.tokensPerSecondMedian : "na"}`,
    `budgets_met=${verdicts.filter((v) => v.verdict === "met").length}/${verdicts.length}`,
  ].join(" ");
  return { markdown: out.join("\n"), summary };
}
