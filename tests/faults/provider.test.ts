// Faults of an API model: errors then success, a stream cut mid-stage, a provider that hangs past the
// stage timeout. Through the real server, the real OpenAI SDK and the fake model server.
import { afterEach, expect, test } from "bun:test";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { type Harness, setup } from "../server/harness.ts";
import { expectKept, liveTimers, settledTimers, outline, trackingFactory } from "./fault-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(extra: Record<string, string>) {
  const tracked = trackingFactory();
  h = await setup({ createExecutor: tracked.factory, executorOptions: { retryBaseDelayMs: 1 } });
  const model = `{ provider: openai-compatible, model: fake, baseURL: "${h.fake.url}" }`;
  for (const [id, stageLines] of Object.entries(extra)) {
    await writeFile(join(h.cwd, "pipelines", `${id}.yaml`), `id: ${id}\nname: ${id}\ndefaults:\n  model: ${model}\nstages:\n${stageLines}`);
  }
  return { h, streams: tracked.streams };
}

test("429, 500 and overloaded (529), then success: the stage retries and completes with the last attempt's text", async () => {
  const { h, streams } = await start({ flaky: `  - id: ask\n    prompt: "{{input}}"\n    retries: 3\n` });
  h.fake.enqueue(
    { kind: "http-error", status: 429, headers: { "retry-after": "0" } },
    { kind: "http-error", status: 500 },
    { kind: "http-error", status: 529, message: "Overloaded" },
    { kind: "stream", chunks: ["fine ", "after ", "all"] },
  );
  const timers = liveTimers();
  const live = await h.ws();
  const id = await h.run("flaky", "q");
  live.send({ type: "subscribe", executionId: id });
  await h.server.manager.whenDone(id);

  const events = await expectKept(h, id, { status: "success", stages: [["ask", "completed", "fine after all"]] }, live);
  expect(outline(events)).toEqual([
    "execution:started",
    "stage:started ask",
    "stage:retrying ask",
    "stage:retrying ask",
    "stage:retrying ask",
    "stage:completed ask",
    "execution:completed",
  ]);
  const retries = events.filter((e): e is Extract<WireEvent, { type: "stage:retrying" }> => e.type === "stage:retrying");
  expect(retries.map((e) => e.attempt)).toEqual([2, 3, 4]);
  expect(retries[0]?.error).toContain("429");
  expect(h.fake.modelRequests.length).toBe(4);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});

test("a stream cut mid-stage fails the stage; the text streamed before the cut is kept and replayable", async () => {
  const { h, streams } = await start({ cut: `  - id: first\n    prompt: "{{input}}"\n    retries: 0\n  - id: second\n    prompt: "{{stages.first.output}}"\n` });
  const gate = createGate();
  h.fake.enqueue({ kind: "cut", chunks: ["kept ", "before ", "the cut"], abrupt: true, gate });
  const timers = liveTimers();
  const live = await h.ws();
  const id = await h.run("cut", "q");
  await live.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  gate.release(3);
  await live.waitFor((m) => m.type === "stage:output" && (m.offset as number) + (m.output as string).length === "kept before the cut".length);
  gate.release(1); // the cut
  await h.server.manager.whenDone(id);

  const events = await expectKept(h, id, { status: "failed", stages: [["first", "failed", "kept before the cut"], ["second", "skipped", ""]] }, live);
  expect(outline(events)).toEqual(["execution:started", "stage:started first", "stage:failed first", "stage:skipped second", "execution:completed"]);
  expect(h.fake.modelRequests.length).toBe(1);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});

test("a stream cut with a retry left: the void attempt stays in the log, the stage completes with the new attempt", async () => {
  const { h, streams } = await start({ recut: `  - id: only\n    prompt: "{{input}}"\n    retries: 1\n` });
  const gate = createGate();
  h.fake.enqueue({ kind: "cut", chunks: ["lost ", "attempt"], abrupt: true, gate }, { kind: "stream", chunks: ["second ", "attempt"] });
  const live = await h.ws();
  const id = await h.run("recut", "q");
  await live.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  gate.release(2);
  await live.waitFor((m) => m.type === "stage:output" && (m.offset as number) + (m.output as string).length === "lost attempt".length);
  gate.release(1);
  await h.server.manager.whenDone(id);

  const events = await expectKept(h, id, { status: "success", stages: [["only", "completed", "second attempt"]] }, live);
  // The first attempt's chunks were streamed and are replayed as they were, before the retry voids them.
  const beforeRetry = events.slice(0, events.findIndex((e) => e.type === "stage:retrying"));
  const voided = beforeRetry.flatMap((e) => (e.type === "stage:output" ? [e.output] : [])).join("");
  expect(voided).toBe("lost attempt");
  expect(await streams.get(id)).toEqual(events);
});

test("a provider that hangs past timeoutMs: the stage fails with a timeout, the connection is closed, partial text kept", async () => {
  const { h, streams } = await start({ slow: `  - id: wait\n    prompt: "{{input}}"\n    timeoutMs: 300\n    retries: 0\n` });
  h.fake.enqueue({ kind: "hang", chunks: ["partial ", "answer"] });
  const timers = liveTimers();
  const live = await h.ws();
  const id = await h.run("slow", "q");
  live.send({ type: "subscribe", executionId: id });
  await h.fake.whenAborted(1);
  await h.server.manager.whenDone(id);

  const events = await expectKept(h, id, { status: "failed", stages: [["wait", "failed", "partial answer"]] }, live);
  const failed = events.find((e): e is Extract<WireEvent, { type: "stage:failed" }> => e.type === "stage:failed");
  expect(failed?.code).toBe("timeout");
  expect(h.fake.aborted).toBe(1);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});
