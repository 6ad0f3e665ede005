// Live figures for a stage card and the run's totals: elapsed, time to first token, tokens, tokens/s, cost.
// Pure: `now` is passed in, so a ticking clock lives in the component and tests use fixed times.
import type { ExecutionState, StageView } from "../../../src/protocol/reducer.ts";

/** 450 → "450ms", 12_340 → "12.3s", 125_000 → "2m 05s", 3_725_000 → "1h 02m". */
export function formatDuration(ms: number): string {
  const m = Math.max(0, Math.round(ms));
  if (m < 1000) return `${m}ms`;
  if (m < 60_000) return `${(m / 1000).toFixed(1)}s`;
  const totalSeconds = Math.floor(m / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m ${String(totalSeconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** 1234567 → "1,234,567" (fixed locale so tests and screenshots agree). */
export function formatInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** USD with enough digits to be meaningful for sub-cent stage costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 1) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(2)}`;
}

/** 1536 → "1.5 KB" (1 KB = 1024). */
export function formatSize(units: number): string {
  if (units < 1024) return `${units} B`;
  if (units < 1024 * 1024) return `${(units / 1024).toFixed(1)} KB`;
  return `${(units / (1024 * 1024)).toFixed(1)} MB`;
}

export type CostKind = "pending" | "exact" | "estimated" | "free" | "unknown";
export interface CostFigure {
  kind: CostKind;
  text: string;
}

/** A stage's cost, labelled by how much it can be trusted. */
export function stageCost(stage: Pick<StageView, "result" | "status"> & { provider?: string }): CostFigure {
  const r = stage.result;
  if (r === null) {
    if (stage.status === "skipped") return { kind: "pending", text: "—" };
    return stage.provider === "local" ? { kind: "free", text: "free" } : { kind: "pending", text: "—" };
  }
  const source = r.costSource ?? (r.costEstimated === true ? "price-table" : undefined);
  if (source === "free" || (source === undefined && (r.provider ?? stage.provider) === "local")) return { kind: "free", text: "free" };
  if (source === "unknown") return { kind: "unknown", text: "unknown" };
  if (source === "price-table") return { kind: "estimated", text: `${formatUsd(r.cost)} est.` };
  return { kind: "exact", text: formatUsd(r.cost) };
}

export interface TokenFigure {
  count: number;
  /** true while streaming: characters / 4, shown as "~N tokens" */
  estimated: boolean;
  text: string;
}

/**
 * Output tokens: the provider's usage when the stage is done, else an estimate from the characters seen.
 * A finished stage whose usage is all zeros had none reported (a `command` stage, a server that sends no
 * usage): any real model call reads at least one input token, so that is "—", never "0 tokens".
 */
export function stageTokens(stage: Pick<StageView, "result" | "outputLength">): TokenFigure | null {
  if (stage.result !== null) {
    const u = stage.result.usage;
    if (u.inputTokens + u.outputTokens + (u.cacheReadTokens ?? 0) + (u.cacheWriteTokens ?? 0) === 0) return null;
    const n = u.outputTokens;
    return { count: n, estimated: false, text: `${formatInt(n)} tokens` };
  }
  if (stage.outputLength === 0) return null;
  const n = Math.max(1, Math.round(stage.outputLength / 4));
  return { count: n, estimated: true, text: `~${formatInt(n)} tokens` };
}

export interface StageFigures {
  elapsedMs: number | null;
  ttftMs: number | null;
  tokens: TokenFigure | null;
  /** output tokens per second of generation (from the first token on); null when not measurable */
  tokensPerSecond: number | null;
  cost: CostFigure;
}

export function stageFigures(stage: StageView, now: number): StageFigures {
  const end = stage.endedAt ?? (stage.status === "running" ? now : null);
  const elapsedMs =
    stage.result !== null && stage.result.duration > 0
      ? stage.result.duration
      : stage.startedAt !== null && end !== null
        ? end - stage.startedAt
        : null;
  const ttftMs =
    stage.result?.timeToFirstToken ??
    (stage.firstOutputAt !== null && stage.startedAt !== null ? stage.firstOutputAt - stage.startedAt : null);
  const tokens = stageTokens(stage);
  let tokensPerSecond: number | null = null;
  if (tokens !== null && end !== null) {
    const genStart = stage.firstOutputAt ?? (stage.startedAt !== null && ttftMs !== null ? stage.startedAt + ttftMs : null);
    const genMs = genStart !== null ? end - genStart : null;
    // Under 250 ms the rate is noise (one chunk), so show nothing rather than a silly number.
    if (genMs !== null && genMs >= 250) tokensPerSecond = tokens.count / (genMs / 1000);
  }
  return { elapsedMs, ttftMs, tokens, tokensPerSecond, cost: stageCost(stage) };
}

export function formatRate(tokensPerSecond: number | null, estimated: boolean): string {
  if (tokensPerSecond === null) return "";
  const n =
    tokensPerSecond >= 10_000 ? `${Math.round(tokensPerSecond / 1000)}k` : tokensPerSecond.toFixed(tokensPerSecond < 10 ? 1 : 0);
  return `${estimated ? "~" : ""}${n} tok/s`;
}

export interface RunTotals {
  elapsedMs: number | null;
  tokens: number;
  /** some token counts are still estimates */
  tokensEstimated: boolean;
  cost: number;
  /** some costs come from the price table */
  costEstimated: boolean;
  /** some finished stages have no known cost */
  costUnknown: boolean;
  done: number;
  total: number;
}

interface CostSum {
  cost: number;
  /** some stage's cost is exact or from the price table */
  priced: boolean;
  estimated: boolean;
  unknown: boolean;
  free: boolean;
}

/** The stages' costs added up, each labelled as its card labels it (stageCost). */
function sumCosts(stages: readonly StageView[]): CostSum {
  const sum: CostSum = { cost: 0, priced: false, estimated: false, unknown: false, free: false };
  for (const stage of stages) {
    const c = stageCost(stage);
    if (c.kind === "exact" || c.kind === "estimated") {
      sum.cost += stage.result?.cost ?? 0;
      sum.priced = true;
    }
    sum.estimated ||= c.kind === "estimated";
    sum.unknown ||= c.kind === "unknown";
    sum.free ||= c.kind === "free";
  }
  return sum;
}

/** The run's cost in the words of its stages' cards: "—" until a stage has a cost, "free" when all known are free. */
export function runCost(stages: readonly StageView[]): CostFigure {
  const s = sumCosts(stages);
  if (!s.priced) {
    if (s.unknown) return { kind: "unknown", text: "unknown" };
    return s.free ? { kind: "free", text: "free" } : { kind: "pending", text: "—" };
  }
  const text = `${formatUsd(s.cost)}${s.estimated ? " est." : ""}${s.unknown ? " + unknown" : ""}`;
  return { kind: s.unknown ? "unknown" : s.estimated ? "estimated" : "exact", text };
}

export function runTotals(state: ExecutionState, now: number): RunTotals {
  let tokens = 0;
  let tokensEstimated = false;
  let done = 0;
  for (const stage of state.stages) {
    if (stage.status !== "pending" && stage.status !== "running") done++;
    const t = stageTokens(stage);
    if (t !== null) {
      tokens += t.count;
      tokensEstimated ||= t.estimated;
    }
  }
  const { cost, estimated: costEstimated, unknown: costUnknown } = sumCosts(state.stages);
  const end = state.endedAt ?? (state.status === "running" || state.status === "queued" ? now : null);
  const elapsedMs = state.startedAt !== null && end !== null ? end - state.startedAt : null;
  return { elapsedMs, tokens, tokensEstimated, cost, costEstimated, costUnknown, done, total: state.stages.length };
}
