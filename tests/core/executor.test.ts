// The engine end to end through the real OpenAI SDK against a fake OpenAI-compatible server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PipelineExecutor } from "../../src/core/executor.ts";
import type { ExecutorCallbacks, ExecutorOptions } from "../../src/core/types.ts";
import type { PipelineConfig, StageConfig } from "../../src/protocol/pipeline.ts";
import { MAX_CHUNK_BYTES, WireEventSchema, type WireEvent } from "../../src/protocol/events.ts";
import { createGate, startFakeOpenAI, type FakeModelServer } from "../helpers/fake-openai.ts";

let fake: FakeModelServer;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.stop());

function pipeline(stages: Partial<StageConfig>[], id = "test-pipe"): PipelineConfig {
  return {
    id,
    name: "Test pipeline",
    defaults: { model: { provider: "openai-compatible", model: "fake-model", baseURL: fake.url } },
    stages: stages.map((s, i) => ({ id: `s${i + 1}`, prompt: `prompt ${i + 1}: {{input}}`, ...s })),
  };
}

async function run(p: PipelineConfig, opts: Partial<ExecutorOptions> = {}, callbacks: ExecutorCallbacks = {}) {
  const events: WireEvent[] = [];
  const executor = new PipelineExecutor(p, {
    input: "the input",
    retryBaseDelayMs: 1,
    ...opts,
    callbacks: { ...callbacks, onEvent: (e) => (events.push(e), callbacks.onEvent?.(e)) },
  });
  const outcome = await executor.run();
  return { events, outcome, executor };
}

const types = (events: WireEvent[]) => events.map((e) => e.type);
const outputOf = (events: WireEvent[], stageId: string) =>
  events
    .filter((e): e is Extract<WireEvent, { type: "stage:output" }> => e.type === "stage:output" && e.stageId === stageId)
    .map((e) => e.output)
    .join("");

function expectWireContract(events: WireEvent[]) {
  events.forEach((e, i) => {
    expect(WireEventSchema.parse(e)).toEqual(e);
    expect(e.seq).toBe(i + 1);
  });
  const offsets = new Map<string, number>();
  for (const e of events) {
    if (e.type === "stage:retrying") offsets.set(e.stageId, 0);
    if (e.type !== "stage:output") continue;
    expect(Buffer.byteLength(e.output, "utf8")).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(e.offset).toBe(offsets.get(e.stageId) ?? 0);
    offsets.set(e.stageId, e.offset + e.output.length);
  }
}

describe("PipelineExecutor", () => {
  test("two stages: exact event order, seq, chunk concatenation, and the template hand-off", async () => {
    fake.enqueue(
      { kind: "stream", chunks: ["Alpha", " beta", " gamma"], usage: { inputTokens: 7, outputTokens: 3 } },
      { kind: "stream", chunks: ["Done: ", "ok"], usage: { inputTokens: 11, outputTokens: 2 } },
    );
    const before = fake.modelRequests.length;
    const p = pipeline([{}, { prompt: "Improve: {{stages.s1.output}}", system: "Be brief." }]);
    const { events, outcome } = await run(p);
    expectWireContract(events);
    const t = types(events);
    expect(t[0]).toBe("execution:started");
    expect(t.at(-1)).toBe("execution:completed");
    // Per stage: started, ≥1 output, completed — in that order, stage 1 entirely before stage 2.
    const s2Start = t.indexOf("stage:started", 1 + t.indexOf("stage:completed"));
    expect(t.slice(1, s2Start).filter((x) => x !== "stage:output")).toEqual(["stage:started", "stage:completed"]);
    expect(outputOf(events, "s1")).toBe("Alpha beta gamma");
    expect(outputOf(events, "s2")).toBe("Done: ok");
    const finals = events.filter((e) => e.type === "stage:output" && e.isFinal);
    expect(finals.map((e) => (e as { stageId: string }).stageId)).toEqual(["s1", "s2"]);
    const reqs = fake.modelRequests.slice(before);
    expect(reqs.length).toBe(2);
    const body2 = reqs[1]!.body as { messages: { role: string; content: string }[] };
    expect(body2.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Improve: Alpha beta gamma" },
    ]);
    expect(outcome.status).toBe("success");
    expect(outcome.summary.usage).toEqual({ inputTokens: 18, outputTokens: 5 });
    const completed = events.find((e) => e.type === "stage:completed" && e.stage.id === "s1");
    expect(completed).toMatchObject({ result: { status: "completed", usage: { inputTokens: 7, outputTokens: 3 }, attempts: 1 } });
  });

  test("callbacks and events() see the same run, in the same order", async () => {
    fake.enqueue({ kind: "stream", chunks: ["one", " two"] });
    const calls: string[] = [];
    const executor = new PipelineExecutor(pipeline([{}]), {
      input: "x",
      callbacks: {
        onPipelineStart: () => calls.push("start"),
        onStageStart: (s, i, n) => calls.push(`stage:${s.id}:${i}/${n}`),
        onStageOutput: (s, chunk, isFinal) => calls.push(`out:${chunk}:${isFinal}`),
        onStageComplete: (s, _r, output) => calls.push(`done:${output}`),
        onPipelineComplete: (o) => calls.push(`end:${o.status}`),
      },
    });
    const pulled: WireEvent[] = [];
    const consumer = (async () => {
      for await (const e of executor.events()) pulled.push(e);
    })();
    await executor.run();
    await consumer;
    expect(calls[0]).toBe("start");
    expect(calls[1]).toBe("stage:s1:0/1");
    expect(calls.slice(2, -2).join("|").replace(/out:(.*?):(false|true)\|?/g, "$1")).toBe("one two");
    expect(calls.at(-3)).toMatch(/:true$/);
    expect(calls.slice(-2)).toEqual(["done:one two", "end:success"]);
    expect(pulled.map((e) => e.seq)).toEqual(pulled.map((_, i) => i + 1));
    expect(pulled.at(-1)!.type).toBe("execution:completed");
  });

  test("the first chunk is sent as soon as the first token arrives", async () => {
    const gate = createGate();
    fake.enqueue({ kind: "stream", chunks: ["first", " second"], gate });
    let firstOutput: (e: WireEvent) => void = () => {};
    const seen = new Promise<WireEvent>((resolve) => (firstOutput = resolve));
    const executor = new PipelineExecutor(pipeline([{}]), {
      input: "x",
      callbacks: { onEvent: (e) => e.type === "stage:output" && firstOutput(e) },
    });
    const running = executor.run();
    gate.release(1);
    const e = await seen; // arrives while the server still holds " second" back
    expect(gate.released).toBe(1);
    expect(e).toMatchObject({ type: "stage:output", output: "first", offset: 0, isFinal: false });
    gate.release(1);
    expect((await running).stages.s1).toMatchObject({ status: "completed", output: "first second" });
  });

  test("429 with Retry-After, then success: stage:retrying, output restarts at offset 0", async () => {
    fake.enqueue(
      { kind: "cut", chunks: ["partial "] },
      { kind: "http-error", status: 429, headers: { "retry-after": "0" } },
      { kind: "stream", chunks: ["final", " answer"] },
    );
    const { events, outcome } = await run(pipeline([{ retries: 2 }]));
    expectWireContract(events);
    const retrying = events.filter((e) => e.type === "stage:retrying");
    expect(retrying.map((e) => [e.attempt, (e as { delayMs?: number }).delayMs !== undefined])).toEqual([
      [2, true],
      [3, true],
    ]);
    expect((retrying[1] as { delayMs: number }).delayMs).toBe(0);
    expect((retrying[1] as { error: string }).error).toContain("HTTP 429");
    // Output after the last retry is the stage's output.
    const lastRetry = events.lastIndexOf(retrying[1]!);
    expect(outputOf(events.slice(lastRetry), "s1")).toBe("final answer");
    expect(outcome.stages.s1).toMatchObject({ status: "completed", output: "final answer", result: { attempts: 3 } });
  });

  test("a non-retryable error fails the stage and the run; later stages are skipped", async () => {
    fake.enqueue({ kind: "http-error", status: 400, message: "bad request body" });
    const before = fake.modelRequests.length;
    const { events, outcome } = await run(pipeline([{ retries: 3 }, {}]));
    expectWireContract(events);
    expect(fake.modelRequests.length - before).toBe(1);
    expect(types(events)).toEqual([
      "execution:started",
      "stage:started",
      "stage:output",
      "stage:failed",
      "stage:skipped",
      "execution:completed",
    ]);
    const failed = events[3] as Extract<WireEvent, { type: "stage:failed" }>;
    expect(failed.error).toContain("HTTP 400");
    expect(failed.code).toBe("provider_http");
    expect(events[4]).toMatchObject({ stage: { id: "s2" }, reason: "not run: an earlier stage failed" });
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toContain("stage s1 failed");
  });

  test("continueOnError: the run goes on and succeeds", async () => {
    fake.enqueue({ kind: "http-error", status: 400 }, { kind: "stream", chunks: ["still here"] });
    const { outcome } = await run(pipeline([{ continueOnError: true }, {}]));
    expect(outcome.status).toBe("success");
    expect(outcome.stages.s1!.status).toBe("failed");
    expect(outcome.stages.s2).toMatchObject({ status: "completed", output: "still here" });
    expect(outcome.summary).toMatchObject({ stagesCompleted: 1, stagesFailed: 1, finalStageId: "s2" });
  });

  test("a stream cut mid-way with no retries left keeps what was streamed", async () => {
    fake.enqueue({ kind: "cut", chunks: ["kept ", "text"] });
    const { events, outcome } = await run(pipeline([{ retries: 0 }]));
    expectWireContract(events);
    expect(outputOf(events, "s1")).toBe("kept text");
    const failedAt = types(events).indexOf("stage:failed");
    expect(types(events).lastIndexOf("stage:output")).toBeLessThan(failedAt);
    expect(events[failedAt]).toMatchObject({ code: "provider_network" });
    expect(outcome.stages.s1).toMatchObject({ status: "failed", output: "kept text" });
  });

  test("a connection torn down mid-body is a retryable network failure", async () => {
    fake.enqueue({ kind: "cut", chunks: ["lost"], abrupt: true }, { kind: "stream", chunks: ["recovered"] });
    const { events, outcome } = await run(pipeline([{ retries: 1 }]));
    expect(events.filter((e) => e.type === "stage:retrying").length).toBe(1);
    expect(outcome.stages.s1).toMatchObject({ status: "completed", output: "recovered", result: { attempts: 2 } });
  });

  test("a hung provider hits the stage timeout; the fake sees the connection close", async () => {
    const abortedBefore = fake.aborted;
    fake.enqueue({ kind: "hang", chunks: ["waiting"] });
    const { events, outcome } = await run(pipeline([{ retries: 0, timeoutMs: 300 }]));
    await fake.whenAborted(abortedBefore + 1);
    const failed = events.find((e) => e.type === "stage:failed") as Extract<WireEvent, { type: "stage:failed" }>;
    expect(failed.error).toBe("timed out after 300 ms");
    expect(failed.code).toBe("timeout");
    expect(outputOf(events, "s1")).toBe("waiting");
    expect(outcome.status).toBe("failed");
  });

  test("cancel mid-stream stops the model call at once and nothing follows execution:cancelled", async () => {
    const abortedBefore = fake.aborted;
    const gate = createGate();
    fake.enqueue({ kind: "stream", chunks: ["a", "b", "c"], gate });
    let onFirst: () => void = () => {};
    const first = new Promise<void>((r) => (onFirst = r));
    const events: WireEvent[] = [];
    const executor = new PipelineExecutor(pipeline([{}, {}]), {
      input: "x",
      callbacks: { onEvent: (e) => (events.push(e), e.type === "stage:output" && onFirst()) },
    });
    const running = executor.run();
    gate.release(1);
    await first;
    executor.cancel();
    const outcome = await running;
    await fake.whenAborted(abortedBefore + 1);
    expect(outcome.status).toBe("cancelled");
    expect(outcome.stages.s1).toEqual({ status: "cancelled", output: "a" });
    expect(outcome.stages.s2).toEqual({ status: "pending" });
    expect(events.at(-1)).toMatchObject({ type: "execution:cancelled", reason: "cancelled by user" });
    expect(events.filter((e) => e.type.startsWith("execution:")).length).toBe(2);
    expect(gate.released).toBe(1);
  });

  test("an external AbortSignal cancels too", async () => {
    fake.enqueue({ kind: "hang" });
    const controller = new AbortController();
    const executor = new PipelineExecutor(pipeline([{}]), { input: "x", signal: controller.signal });
    const running = executor.run();
    setTimeout(() => controller.abort("stop now"), 20);
    const outcome = await running;
    expect(outcome.status).toBe("cancelled");
    expect(outcome.error).toBe("stop now");
  });

  test("json output, extract, skipIf, runIf and earlyExit", async () => {
    fake.enqueue(
      { kind: "stream", chunks: ['Here you go:\n```json\n{"verdict": "ok", ', '"score": 9}\n```'] },
      { kind: "stream", chunks: ["scored 9"] },
    );
    const p = pipeline([
      { id: "judge", output: { format: "json", extract: [{ name: "score", path: "score", required: true }] } },
      { id: "fix", skipIf: { path: "stages.judge.data.verdict", equals: "ok" } },
      { id: "report", runIf: { path: "stages.judge.data.score", gte: 5 }, prompt: "score {{stages.judge.data.score}}", earlyExit: { path: "stages.report.output", contains: "9" } },
      { id: "never" },
    ]);
    const before = fake.modelRequests.length;
    const { events, outcome } = await run(p);
    expectWireContract(events);
    expect(outcome.status).toBe("early_exit");
    expect(outcome.summary.earlyExitStageId).toBe("report");
    expect(outcome.stages.judge).toMatchObject({ status: "completed", data: { verdict: "ok", score: 9 } });
    expect(outcome.stages.fix).toMatchObject({ status: "skipped" });
    expect((outcome.stages.fix as { reason: string }).reason).toContain("stages.judge.data.verdict");
    expect(outcome.stages.never).toEqual({ status: "skipped", reason: "early exit after stage report" });
    const reqs = fake.modelRequests.slice(before);
    expect(reqs.length).toBe(2);
    expect((reqs[1]!.body as { messages: { content: string }[] }).messages.at(-1)!.content).toBe("score 9");
    expect(events.at(-1)).toMatchObject({ type: "execution:completed", result: { status: "early_exit" } });
  });

  test("a required extract that is missing fails the stage with its name", async () => {
    fake.enqueue({ kind: "stream", chunks: ['{"other": 1}'] });
    const { outcome } = await run(pipeline([{ output: { format: "json", extract: [{ name: "verdict", path: "verdict", required: true }] } }]));
    expect(outcome.stages.s1!.status).toBe("failed");
    expect((outcome.stages.s1 as { error: Error }).error.message).toContain("verdict");
  });

  test("multi-byte output larger than a chunk: every chunk ≤ 4096 bytes, never a split character", async () => {
    const text = "😀".repeat(1500) + "é".repeat(3000) + "日本語".repeat(800);
    const pieces = text.match(/[\s\S]{1,997}/g)!; // cuts through surrogate pairs on purpose
    fake.enqueue({ kind: "stream", chunks: pieces });
    const { events } = await run(pipeline([{}]), { coalesce: { intervalMs: 1000, flushBytes: 1 << 20 } });
    expectWireContract(events);
    expect(outputOf(events, "s1")).toBe(text);
    for (const e of events) if (e.type === "stage:output") expect(e.output.includes("\ufffd")).toBe(false);
  });

  test("secrets are masked in every event and in the outcome, even when a key is cut between deltas", async () => {
    const key = "sk-live-0123456789abcdef";
    fake.enqueue(
      { kind: "stream", chunks: ["your key is sk-li", "ve-0123", "456789abcdef, keep it"] },
      { kind: "http-error", status: 400, message: `bad key ${key}` },
    );
    const { events, outcome } = await run(pipeline([{}, { retries: 0 }]), { secrets: [key] });
    const all = JSON.stringify(events) + JSON.stringify(outcome);
    expect(all.includes("0123456789")).toBe(false);
    expect(outputOf(events, "s1")).toBe(`your key is ${"*".repeat(key.length)}, keep it`);
    expect(outcome.stages.s1).toMatchObject({ status: "completed", output: `your key is ${"*".repeat(key.length)}, keep it` });
    const failed = events.find((e) => e.type === "stage:failed") as Extract<WireEvent, { type: "stage:failed" }>;
    expect(failed.error).toContain(`bad key ${"*".repeat(key.length)}`);
    expect((outcome.stages.s2 as { error: Error }).error.message).toContain(`bad key ${"*".repeat(key.length)}`);
    expectWireContract(events);
  });
});
