// Faults on the viewer side: a WebSocket dropped mid-stream (the run goes on; a new socket resumes
// from its last seq with no gap or duplicate), and a viewer that never reads (cut off at the bound as
// a slow consumer; the run and the other viewers are undisturbed; it catches up by resubscribing).
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { type Harness, WsClient, assertContiguous, isFinal, lines, setup, stageText } from "../server/harness.ts";
import { expectKept, liveTimers, trackingFactory } from "./fault-harness.ts";

const BLOCKING_CLIENT = join(import.meta.dir, "..", "helpers", "blocking-ws-client.ts");
let h: Harness | undefined;
let child: Bun.Subprocess<"pipe", "pipe", "inherit"> | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill();
  await child?.exited;
  child = undefined;
  await h?.close();
  h = undefined;
});

const reached = (stageId: string, length: number) => (m: Record<string, unknown>) =>
  m.type === "stage:output" && m.stageId === stageId && (m.offset as number) + (m.output as string).length >= length;

test("a WebSocket dropped mid-stream: the run completes; a new socket resumes from the last seq without gap or duplicate", async () => {
  const tracked = trackingFactory();
  h = await setup({ createExecutor: tracked.factory });
  const gate = createGate();
  const chunks = Array.from({ length: 12 }, (_, i) => `part ${i}; `);
  h.fake.enqueue({ kind: "stream", chunks, gate }, { kind: "stream", chunks: ["polished"] });
  const timers = liveTimers();
  const healthy = await h.ws();
  const id = await h.run("two", "drop me");
  await healthy.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  const dropped = await WsClient.open(h.wsUrl);
  await dropped.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  const topic = `execution:${id}`;
  expect(h.server.server.subscriberCount(topic)).toBe(2);

  gate.release(5);
  const firstPart = chunks.slice(0, 5).join("");
  await dropped.waitFor(reached("draft", firstPart.length));
  dropped.close();
  await dropped.closed;
  gate.release(7);
  await healthy.waitFor(isFinal(id));
  await h.server.manager.whenDone(id);
  expect(h.server.server.subscriberCount(topic)).toBe(1);

  const seen = dropped.events(id);
  assertContiguous(seen);
  expect(stageText(seen, "draft")).toBe(firstPart);
  const resumed = await WsClient.open(h.wsUrl);
  const lastSeq = seen.at(-1)?.seq as number;
  await resumed.request({ type: "subscribe", executionId: id, since: lastSeq }, (m) => m.type === "subscribed");
  await resumed.waitFor(isFinal(id));
  const rest = resumed.events(id);
  assertContiguous(rest, lastSeq);
  expect([...seen, ...rest]).toEqual(healthy.events(id));
  resumed.close();
  await resumed.closed;

  const events = await expectKept(h, id, { status: "success", stages: [["draft", "completed", chunks.join("")], ["polish", "completed", "polished"]] }, healthy);
  expect(await tracked.streams.get(id)).toEqual(events);
  expect(liveTimers()).toBe(timers);
});

test("a viewer that never reads: the run completes for everyone else; it is cut off at the bound and catches up after", async () => {
  const tracked = trackingFactory();
  h = await setup({ maxBufferedBytes: 128 * 1024, createExecutor: tracked.factory });
  const gate = createGate();
  // 10 MB: far more than loopback socket buffers plus the 128 KB bound can hold for a stalled reader.
  const chunks = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(4, "0")}${"v".repeat(50 * 1024 - 4)}`);
  const full = chunks.join("");
  h.fake.enqueue({ kind: "stream", chunks, gate });
  const id = await h.run("one", "flood");
  const healthy = await h.ws();
  await healthy.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  child = Bun.spawn(["bun", BLOCKING_CLIENT, h.wsUrl, id], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const out = lines(child.stdout);
  expect((await out.next()).value).toBe("ready");
  const kicked: string[] = [];
  h.server.hub.onSlowConsumer = (executionId) => kicked.push(executionId);

  // Paced by the healthy viewer (one chunk outstanding), so only the stalled one can fall behind;
  // the run never waits for the stalled viewer.
  let length = 0;
  for (const chunk of chunks) {
    gate.release(1);
    length += chunk.length;
    await healthy.waitFor(reached("write", length));
  }
  await healthy.waitFor(isFinal(id));
  await h.server.manager.whenDone(id);
  expect(kicked).toEqual([id]);
  expect(h.server.hub.slowConsumers).toBe(1);
  expect(h.server.server.subscriberCount(`execution:${id}`)).toBe(1);

  child.stdin.write("go\n");
  await child.stdin.flush();
  const report = JSON.parse((await out.next()).value as string) as { events: WireEvent[]; errors: { code: string }[] };
  await child.exited;
  expect(report.errors.map((e) => e.code)).toEqual(["slow_consumer"]);
  assertContiguous(report.events);
  expect(report.events).toEqual(healthy.events(id));
  expect(stageText(report.events, "write")).toBe(full);

  const snap = (await (await h.api(`/api/executions/${id}`)).json()) as Record<string, any>;
  expect([snap.status, snap.stages[0].status, snap.stages[0].outputLength, snap.stages[0].outputTruncated]).toEqual(["success", "completed", full.length, true]);
  expect(await (await h.api(`/api/executions/${id}/stages/write/output`)).text()).toBe(full);
  const replay = await WsClient.open(h.wsUrl);
  const subscribed = await replay.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  await replay.waitFor((m) => m.seq === subscribed.lastSeq);
  expect(replay.events(id)).toEqual(healthy.events(id));
  replay.close();
  expect(await tracked.streams.get(id)).toEqual(healthy.events(id));
}, 60_000); // 10 MB through the server, the stalled viewer's process and back: seconds on a busy machine
