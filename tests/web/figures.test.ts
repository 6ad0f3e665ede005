import { describe, expect, test } from "bun:test";
import type { StageResult } from "../../src/protocol/events.ts";
import { type ExecutionState, type StageView, initialState } from "../../src/protocol/reducer.ts";
import {
  formatDuration,
  formatRate,
  formatSize,
  formatUsd,
  runCost,
  runTotals,
  stageCost,
  stageFigures,
  stageTokens,
} from "../../web/lib/output/figures.ts";

function stage(over: Partial<StageView> = {}): StageView {
  return {
    id: "s",
    name: "S",
    type: "generate",
    status: "pending",
    output: "",
    outputStart: 0,
    outputLength: 0,
    attempt: 1,
    startedAt: null,
    endedAt: null,
    firstOutputAt: null,
    result: null,
    error: null,
    reason: null,
    ...over,
  };
}

function result(over: Partial<StageResult> = {}): StageResult {
  return { status: "completed", cost: 0.0123, duration: 4000, usage: { inputTokens: 10, outputTokens: 300 }, ...over };
}

describe("formatting", () => {
  test("durations", () => {
    expect([0, 450, 999, 1000, 12_340, 59_999, 60_000, 125_000, 3_725_000].map(formatDuration)).toEqual([
      "0ms",
      "450ms",
      "999ms",
      "1.0s",
      "12.3s",
      "60.0s",
      "1m 00s",
      "2m 05s",
      "1h 02m",
    ]);
  });
  test("money, sizes and rates", () => {
    expect([0, 0.00312, 0.0412, 1.5].map(formatUsd)).toEqual(["$0.00", "$0.0031", "$0.041", "$1.50"]);
    expect([512, 1536, 1024 * 1024].map(formatSize)).toEqual(["512 B", "1.5 KB", "1.0 MB"]);
    expect([formatRate(null, false), formatRate(7.25, true), formatRate(123.4, false), formatRate(224_780, true)]).toEqual([
      "",
      "~7.3 tok/s",
      "123 tok/s",
      "~225k tok/s",
    ]);
  });
});

describe("stageCost", () => {
  test("labels by source", () => {
    expect(stageCost(stage())).toEqual({ kind: "pending", text: "—" });
    expect(stageCost(stage({ provider: "local" }))).toEqual({ kind: "free", text: "free" });
    expect(stageCost(stage({ result: result({ costSource: "tool" }) }))).toEqual({ kind: "exact", text: "$0.012" });
    expect(stageCost(stage({ result: result({ costSource: "price-table" }) }))).toEqual({ kind: "estimated", text: "$0.012 est." });
    expect(stageCost(stage({ result: result({ costEstimated: true }) }))).toEqual({ kind: "estimated", text: "$0.012 est." });
    expect(stageCost(stage({ result: result({ cost: 0, costSource: "free" }) }))).toEqual({ kind: "free", text: "free" });
    expect(stageCost(stage({ result: result({ cost: 0, costSource: "unknown" }) }))).toEqual({ kind: "unknown", text: "unknown" });
    expect(stageCost(stage({ provider: "local", result: result({ cost: 0 }) }))).toEqual({ kind: "free", text: "free" });
  });
});

describe("stageTokens and stageFigures", () => {
  test("an estimate from characters while streaming, the usage when done", () => {
    expect(stageTokens(stage())).toBe(null);
    expect(stageTokens(stage({ outputLength: 4002 }))).toEqual({ count: 1001, estimated: true, text: "~1,001 tokens" });
    expect(stageTokens(stage({ outputLength: 4002, result: result() }))).toEqual({ count: 300, estimated: false, text: "300 tokens" });
  });

  test("a finished stage with no usage reported (all zeros, as a command stage) has no token figure, not 0", () => {
    const none = result({ cost: 0, costSource: "unknown", usage: { inputTokens: 0, outputTokens: 0 } });
    expect(stageTokens(stage({ status: "completed", outputLength: 400, result: none }))).toBe(null);
    const s = stage({ status: "completed", startedAt: 1000, endedAt: 3000, firstOutputAt: 1100, outputLength: 400, result: none });
    expect(stageFigures(s, 9000).tokens).toBe(null);
    expect(stageFigures(s, 9000).tokensPerSecond).toBe(null);
    // a real call that wrote nothing still read its prompt: "0 tokens" is then the truth
    expect(stageTokens(stage({ result: result({ usage: { inputTokens: 12, outputTokens: 0 } }) }))).toEqual({ count: 0, estimated: false, text: "0 tokens" });
  });

  test("running: elapsed ticks with now, TTFT from the first output, estimated rate", () => {
    const s = stage({ status: "running", startedAt: 1000, firstOutputAt: 1500, outputLength: 4000 });
    expect(stageFigures(s, 3500)).toEqual({
      elapsedMs: 2500,
      ttftMs: 500,
      tokens: { count: 1000, estimated: true, text: "~1,000 tokens" },
      tokensPerSecond: 500,
      cost: { kind: "pending", text: "—" },
    });
  });

  test("completed: the result's duration, TTFT and usage win", () => {
    const s = stage({
      status: "completed",
      startedAt: 1000,
      endedAt: 5000,
      firstOutputAt: 1500,
      outputLength: 1200,
      result: result({ timeToFirstToken: 400, costSource: "tool" }),
    });
    expect(stageFigures(s, 99_999)).toEqual({
      elapsedMs: 4000,
      ttftMs: 400,
      tokens: { count: 300, estimated: false, text: "300 tokens" },
      tokensPerSecond: 300 / 3.5,
      cost: { kind: "exact", text: "$0.012" },
    });
  });

  test("pending: nothing measured", () => {
    expect(stageFigures(stage(), 5000)).toEqual({ elapsedMs: null, ttftMs: null, tokens: null, tokensPerSecond: null, cost: { kind: "pending", text: "—" } });
  });
});

describe("runTotals", () => {
  test("sums tokens and costs and says what is estimated or unknown", () => {
    const state: ExecutionState = {
      ...initialState(),
      status: "running",
      startedAt: 1000,
      stages: [
        stage({ id: "a", status: "completed", result: result({ cost: 0.01, costSource: "tool" }) }),
        stage({ id: "b", status: "completed", result: result({ cost: 0.02, costSource: "price-table", usage: { inputTokens: 1, outputTokens: 50 } }) }),
        stage({ id: "c", status: "completed", result: result({ cost: 0, costSource: "unknown", usage: { inputTokens: 1, outputTokens: 7 } }) }),
        stage({ id: "d", status: "running", outputLength: 400 }),
        stage({ id: "e" }),
      ],
    };
    expect(runTotals(state, 4000)).toEqual({
      elapsedMs: 3000,
      tokens: 300 + 50 + 7 + 100,
      tokensEstimated: true,
      cost: 0.03,
      costEstimated: true,
      costUnknown: true,
      done: 3,
      total: 5,
    });
  });
});

describe("runCost", () => {
  test("worded as the stage cards: — until a stage has a cost, then the sum and what is estimated or unknown", () => {
    expect(runCost([stage({ id: "a", status: "running", outputLength: 40 }), stage({ id: "b" })])).toEqual({ kind: "pending", text: "—" });
    expect(runCost([stage({ id: "a", provider: "local" }), stage({ id: "b", status: "skipped" })])).toEqual({ kind: "free", text: "free" });
    const unknown = stage({ id: "u", status: "completed", result: result({ cost: 0, costSource: "unknown" }) });
    expect(runCost([unknown, stage({ id: "b" })])).toEqual({ kind: "unknown", text: "unknown" });
    const exact = stage({ id: "x", status: "completed", result: result({ cost: 0.01, costSource: "tool" }) });
    const priced = stage({ id: "p", status: "completed", result: result({ cost: 0.02, costSource: "price-table" }) });
    expect(runCost([exact, stage({ id: "b" })])).toEqual({ kind: "exact", text: "$0.010" });
    expect(runCost([exact, priced])).toEqual({ kind: "estimated", text: "$0.030 est." });
    expect(runCost([exact, priced, unknown])).toEqual({ kind: "unknown", text: "$0.030 est. + unknown" });
    expect(runCost([stage({ id: "f", provider: "local", status: "completed", result: result({ cost: 0, costSource: "free" }) }), exact])).toEqual({
      kind: "exact",
      text: "$0.010",
    });
  });
});
