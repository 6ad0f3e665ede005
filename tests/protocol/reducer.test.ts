// The shared reducer against events recorded from real runs of the engine (fake model server).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PipelineExecutor } from "../../src/core/executor.ts";
import type { WireEvent } from "../../src/protocol/events.ts";
import { fromSnapshot, initialState, reduce, reduceAll } from "../../src/protocol/reducer.ts";
import { startFakeOpenAI, type FakeModelServer } from "../helpers/fake-openai.ts";

let fake: FakeModelServer;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.stop());

async function record(behaviours: Parameters<FakeModelServer["enqueue"]>, stages = 2): Promise<WireEvent[]> {
  fake.enqueue(...behaviours);
  const events: WireEvent[] = [];
  await new PipelineExecutor(
    {
      id: "rec",
      name: "Recorded",
      defaults: { model: { provider: "openai-compatible", model: "m", baseURL: fake.url }, retries: 1 },
      stages: Array.from({ length: stages }, (_, i) => ({ id: `s${i + 1}`, prompt: "p {{input}}" })),
    },
    { input: "in", retryBaseDelayMs: 1, coalesce: { intervalMs: 1000, flushBytes: 3 }, callbacks: { onEvent: (e) => events.push(e) } },
  ).run();
  return events;
}

describe("reduce", () => {
  test("a full run: every stage completed with its exact text and result", async () => {
    const events = await record([
      { kind: "stream", chunks: ["Hello", " wörld", " 😀"] },
      { kind: "stream", chunks: ["bye"] },
    ]);
    const s = reduceAll(initialState(), events);
    expect(s.status).toBe("success");
    expect(s.gap).toBe(false);
    expect(s.lastSeq).toBe(events.length);
    expect(s.stages.map((x) => [x.id, x.status, x.output, x.outputLength])).toEqual([
      ["s1", "completed", "Hello wörld 😀", 14],
      ["s2", "completed", "bye", 3],
    ]);
    expect(s.stages[0]!.result?.usage.outputTokens).toBe(3);
    expect(s.summary?.stagesCompleted).toBe(2);
  });

  test("stages are known (pending) from execution:started on", async () => {
    const events = await record([{ kind: "stream", chunks: ["a"] }, { kind: "stream", chunks: ["b"] }]);
    const s = reduce(initialState(), events[0]!);
    expect(s.stages.map((x) => [x.id, x.status])).toEqual([
      ["s1", "pending"],
      ["s2", "pending"],
    ]);
  });

  test("duplicates are ignored and a skipped seq flags a gap", async () => {
    const events = await record([{ kind: "stream", chunks: ["abc", "def"] }, { kind: "stream", chunks: ["x"] }]);
    const doubled = events.flatMap((e) => [e, e]);
    expect(reduceAll(initialState(), doubled)).toEqual(reduceAll(initialState(), events));
    const holed = events.filter((_, i) => i !== 3);
    expect(reduceAll(initialState(), holed).gap).toBe(true);
  });

  test("a retry voids the stage's output; the last attempt's text remains", async () => {
    const events = await record([{ kind: "cut", chunks: ["lost text"] }, { kind: "stream", chunks: ["kept"] }], 1);
    expect(events.some((e) => e.type === "stage:retrying")).toBe(true);
    const s = reduceAll(initialState(), events);
    expect(s.stages[0]).toMatchObject({ status: "completed", output: "kept", attempt: 2 });
  });

  test("snapshot + the events after its lastSeq equals reducing everything", async () => {
    const events = await record([{ kind: "stream", chunks: ["one ", "two ", "three"] }, { kind: "stream", chunks: ["z"] }]);
    const all = reduceAll(initialState(), events);
    for (const k of [1, 4, 7, events.length - 1]) {
      const mid = reduceAll(initialState(), events.slice(0, k));
      const snapshot = {
        id: mid.id!,
        pipelineId: mid.pipelineId!,
        pipelineName: mid.pipelineName!,
        status: mid.status,
        input: mid.input,
        createdAt: 0,
        startedAt: mid.startedAt,
        endedAt: mid.endedAt,
        lastSeq: mid.lastSeq,
        error: mid.error,
        stages: mid.stages.map((st) => ({
          id: st.id, name: st.name, type: st.type, status: st.status, startedAt: st.startedAt, endedAt: st.endedAt,
          cost: st.result?.cost ?? null, usage: st.result?.usage ?? null, error: st.error, reason: st.reason,
          output: st.output, outputLength: st.outputLength, outputTruncated: false,
        })),
      };
      const resumed = reduceAll(fromSnapshot(snapshot), events.slice(k));
      expect(resumed.stages.map((x) => [x.status, x.output])).toEqual(all.stages.map((x) => [x.status, x.output]));
      expect(resumed.status).toBe(all.status);
    }
  });

  test("fromSnapshot takes a completed stage's result from the snapshot as the live events gave it", async () => {
    const events = await record([{ kind: "stream", chunks: ["cold ", "load"], usage: { inputTokens: 9, outputTokens: 4 } }], 1);
    const live = reduceAll(initialState(), events);
    const st = live.stages[0]!;
    expect([st.result?.costSource, st.result?.usage, typeof st.result?.timeToFirstToken]).toEqual(["unknown", { inputTokens: 9, outputTokens: 4 }, "number"]);
    const stage = {
      id: st.id, name: st.name, type: st.type, status: st.status, startedAt: st.startedAt, endedAt: st.endedAt,
      cost: st.result!.cost, usage: st.result!.usage, error: null, reason: null,
      output: st.output, outputLength: st.outputLength, outputTruncated: false,
    };
    const snapshot = {
      id: live.id!, pipelineId: live.pipelineId!, pipelineName: live.pipelineName!, status: live.status, input: live.input,
      createdAt: 0, startedAt: live.startedAt, endedAt: live.endedAt, lastSeq: live.lastSeq, error: null,
    };
    const cold = fromSnapshot({ ...snapshot, stages: [{ ...stage, result: st.result! }] });
    expect(cold.stages[0]!.result).toEqual(st.result);
    // A snapshot without `result` (a server from before it): rebuilt from the cost and usage columns.
    const old = fromSnapshot({ ...snapshot, stages: [stage] });
    expect(old.stages[0]!.result).toEqual({ status: "completed", cost: 0, duration: st.endedAt! - st.startedAt!, usage: { inputTokens: 9, outputTokens: 4 } });
    // A result never makes a stage that is not completed look finished.
    const running = fromSnapshot({ ...snapshot, status: "running", stages: [{ ...stage, status: "running", endedAt: null, result: st.result! }] });
    expect(running.stages[0]!.result).toBeNull();
  });

  test("cancel marks the running stage cancelled; a final state is never overwritten", async () => {
    const base = await record([{ kind: "stream", chunks: ["a"] }], 1);
    const started = base.slice(0, 2); // execution:started, stage:started
    const cancelled: WireEvent = { type: "execution:cancelled", executionId: base[0]!.executionId, seq: 3, ts: 1, reason: "stop" };
    const s = reduceAll(initialState(), [...started, cancelled]);
    expect(s.status).toBe("cancelled");
    expect(s.stages[0]!.status).toBe("cancelled");
    const late: WireEvent = { ...base.at(-1)!, seq: 4 } as WireEvent;
    expect(reduce(s, late).status).toBe("cancelled");
  });
});
