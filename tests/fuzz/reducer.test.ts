// Property tests of the reducer against every event order the server can produce: straight, with
// duplicates from a replay overlap (resubscribing from an earlier seq), and a REST snapshot taken at
// any point (tail-truncated or not) followed by the events after it.
import { expect, test } from "bun:test";
import fc from "fast-check";
import type { WireEvent } from "../../src/protocol/events.ts";
import { type ExecutionState, fromSnapshot, initialState, reduce } from "../../src/protocol/reducer.ts";
import type { ExecutionSnapshot, StageSnapshot } from "../../src/protocol/server-api.ts";
import { type Generated, executionPlan, generate } from "./event-script.ts";

const FINAL_STAGE = new Set(["completed", "skipped", "failed", "cancelled"]);
const FINAL_EXECUTION = new Set(["success", "early_exit", "failed", "cancelled", "interrupted"]);

/** Reduces step by step, checking the invariants that hold after every event. */
function run(start: ExecutionState, delivered: WireEvent[]): ExecutionState {
  let state = start;
  for (const e of delivered) {
    const next = reduce(state, e);
    expect(next.lastSeq).toBeGreaterThanOrEqual(state.lastSeq);
    if (FINAL_EXECUTION.has(state.status)) expect(next.status).toBe(state.status);
    for (const s of state.stages) {
      if (FINAL_STAGE.has(s.status)) expect(next.stages.find((n) => n.id === s.id)?.status).toBe(s.status);
    }
    state = next;
  }
  return state;
}

function expectFinal(state: ExecutionState, g: Generated, n: number): void {
  expect(state.lastSeq).toBe(n);
  expect(state.gap).toBe(false);
  expect(state.status as string).toBe(g.executionStatus);
  for (const s of state.stages) {
    const want = g.expected.get(s.id);
    expect(want).toBeDefined();
    expect(s.status as string).toBe(want!.status);
    // The text held is the stage's text or its tail, placed where it belongs in the full text.
    expect(s.outputStart + s.output.length).toBe(want!.text.length);
    expect(want!.text.slice(s.outputStart)).toBe(s.output);
    expect(FINAL_STAGE.has(s.status)).toBe(true);
  }
}

/** What GET /api/executions/:id answers after the first `at` events (the event log's rules). */
function snapshotAt(events: WireEvent[], at: number, tailUnits: number | null): ExecutionSnapshot {
  const started = events[0] as Extract<WireEvent, { type: "execution:started" }>;
  let status: ExecutionSnapshot["status"] = at === 0 ? "queued" : "running";
  const stages = new Map<string, StageSnapshot & { full: string }>(
    started.stages.map((r) => [r.id, { id: r.id, name: r.name, type: r.type, status: "pending", startedAt: null, endedAt: null, cost: null, usage: null, error: null, reason: null, output: "", outputLength: 0, outputTruncated: false, full: "" }]),
  );
  let error: string | null = null;
  for (const e of events.slice(0, at)) {
    const stage = stages.get("stage" in e ? e.stage.id : "stageId" in e ? e.stageId : "");
    switch (e.type) {
      case "stage:started":
        Object.assign(stage!, { status: "running", startedAt: e.ts, full: "" });
        break;
      case "stage:output":
        stage!.full += e.output;
        break;
      case "stage:retrying":
        stage!.full = "";
        break;
      case "stage:completed":
        Object.assign(stage!, { status: "completed", endedAt: e.ts, cost: e.result.cost, usage: e.result.usage });
        break;
      case "stage:skipped":
        Object.assign(stage!, { status: "skipped", endedAt: e.ts, reason: e.reason });
        break;
      case "stage:failed":
        Object.assign(stage!, { status: "failed", endedAt: e.ts, error: e.error });
        break;
      case "execution:completed":
        status = e.result.status;
        break;
      case "execution:cancelled":
        status = "cancelled";
        error = e.reason;
        for (const s of stages.values()) if (s.status === "running" || s.status === "pending") s.status = "cancelled";
        break;
      case "execution:failed":
        // The contract: every stage is final after a final event (the event log does the same).
        status = "failed";
        error = e.error;
        for (const s of stages.values()) {
          if (s.status === "running") Object.assign(s, { status: "failed", error: e.error });
          if (s.status === "pending") s.status = "cancelled";
        }
        break;
    }
  }
  const list = [...stages.values()].map(({ full, ...s }) => {
    const output = tailUnits !== null && full.length > tailUnits ? full.slice(full.length - tailUnits) : full;
    return { ...s, output, outputLength: full.length, outputTruncated: output.length < full.length };
  });
  return { id: "exec-1", pipelineId: "p", pipelineName: "P", status, input: "in", createdAt: 1, startedAt: at > 0 ? 1 : null, endedAt: null, lastSeq: at, error, stages: list };
}

test("straight delivery: consistent state, exact texts, final states kept", () => {
  fc.assert(
    fc.property(executionPlan, (plan) => {
      const g = generate(plan);
      expectFinal(run(initialState(), g.events), g, g.events.length);
    }),
    { numRuns: 300 },
  );
});

test("duplicates from a replay overlap (resubscribe from an earlier seq) change nothing", () => {
  fc.assert(
    fc.property(executionPlan.chain((plan) => {
      const g = generate(plan);
      const n = g.events.length;
      return fc.tuple(fc.constant(g), fc.integer({ min: 0, max: n }).chain((k) => fc.tuple(fc.constant(k), fc.integer({ min: 0, max: k }))));
    }), ([g, [k, j]]) => {
      const delivered = [...g.events.slice(0, k), ...g.events.slice(j)];
      expectFinal(run(initialState(), delivered), g, g.events.length);
    }),
    { numRuns: 300 },
  );
});

test("a snapshot at any seq (whole or tail-truncated) followed by the events after it (with overlap)", () => {
  fc.assert(
    fc.property(executionPlan.chain((plan) => {
      const g = generate(plan);
      const n = g.events.length;
      return fc.tuple(
        fc.constant(g),
        fc.integer({ min: 1, max: n }).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: Math.max(0, s - 3), max: s }))),
        fc.option(fc.integer({ min: 0, max: 6000 })),
      );
    }), ([g, [s, since], tail]) => {
      const state = run(fromSnapshot(snapshotAt(g.events, s, tail)), g.events.slice(since));
      expectFinal(state, g, g.events.length);
    }),
    { numRuns: 300 },
  );
});
