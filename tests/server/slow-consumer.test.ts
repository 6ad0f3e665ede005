// A viewer that stops reading is cut off at the bound with `slow_consumer` (not silently skipped,
// not buffered without limit); resubscribing from its last seq gives it the rest with no gap.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { type Harness, assertContiguous, isFinal, lines, setup, stageText } from "./harness.ts";

const CLIENT = join(import.meta.dir, "..", "helpers", "blocking-ws-client.ts");
let h: Harness;
let child: Bun.Subprocess<"pipe", "pipe", "inherit"> | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill();
  await child?.exited;
  await h.close();
});

const outputReached = (length: number) => (m: Record<string, unknown>) =>
  m.type === "stage:output" && (m.offset as number) + (m.output as string).length >= length;

test("a stalled subscriber gets slow_consumer at the bound and catches up by resubscribing", async () => {
  h = await setup({ maxBufferedBytes: 256 * 1024 });
  const gate = createGate();
  // 10 MB: far more than the kernel's socket buffers plus the 256 KB bound can absorb.
  const chunks = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(4, "0")}${"z".repeat(50 * 1024 - 4)}`);
  h.fake.enqueue({ kind: "stream", chunks, gate });
  const id = await h.run("one", "flood");
  const healthy = await h.ws();
  await healthy.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");

  child = Bun.spawn(["bun", CLIENT, h.wsUrl, id], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const out = lines(child.stdout);
  expect((await out.next()).value).toBe("ready");
  let kicked: string | undefined;
  h.server.hub.onSlowConsumer = (executionId) => (kicked = executionId);

  // Paced by the healthy viewer: it never has more than one chunk outstanding, while the stalled
  // one piles up everything until it passes the bound.
  let released = 0;
  let length = 0;
  while (kicked === undefined && released < chunks.length) {
    gate.release(1);
    length += chunks[released++]!.length;
    await healthy.waitFor(outputReached(length));
  }
  expect([kicked, released < chunks.length]).toEqual([id, true]);
  child.stdin.write("go\n");
  await child.stdin.flush();
  while (released < chunks.length) {
    gate.release(1);
    length += chunks[released++]!.length;
    await healthy.waitFor(outputReached(length));
  }
  const report = JSON.parse((await out.next()).value as string) as { events: WireEvent[]; errors: { code: string }[] };

  const full = chunks.join("");
  await healthy.waitFor(isFinal(id));
  expect(stageText(healthy.events(id), "write")).toBe(full);
  expect(report.errors.map((e) => e.code)).toEqual(["slow_consumer"]);
  assertContiguous(report.events);
  expect(stageText(report.events, "write")).toBe(full);
  expect(report.events).toEqual(healthy.events(id));
  expect(h.server.hub.slowConsumers).toBe(1);
});
