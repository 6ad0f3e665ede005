// A server killed with SIGKILL mid-run loses nothing it had streamed: on the next start the run is
// `interrupted`, its output (snapshot, full text, replay) is exactly what viewers had already seen.
import { afterEach, expect, test } from "bun:test";
import type { WireEvent } from "../../src/protocol/events.ts";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { WsClient, assertContiguous, stageText, startKillableServer } from "./harness.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

test("kill -9 mid-run: the execution becomes interrupted and every streamed chunk is still there", async () => {
  const gate = createGate();
  const chunks = Array.from({ length: 20 }, (_, i) => `line ${i}: ${"ü".repeat(i * 3)}\n`);
  const { fake, cwd, dataDir, child, url } = await startKillableServer(cleanup, { kind: "stream", chunks, gate });

  const res = await fetch(`${url}/api/pipelines/two/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: "crash me" }),
  });
  const { executionId: id } = (await res.json()) as { executionId: string };
  const client = await WsClient.open(`${url.replace("http", "ws")}/ws`);
  cleanup.push(async () => client.close());
  client.send({ type: "subscribe", executionId: id });
  gate.release(7);
  const streamed = chunks.slice(0, 7).join("");
  await client.waitFor(
    (m) => m.type === "stage:output" && (m.offset as number) + (m.output as string).length === streamed.length,
  );

  child.kill("SIGKILL");
  await child.exited;
  await client.closed;
  const seen = client.events(id);
  expect(stageText(seen, "draft")).toBe(streamed);

  const server: RunningServer = await startServer({ port: 0, dataDir, cwd });
  cleanup.push(() => server.stop());
  const snap = (await (await fetch(`${server.url}/api/executions/${id}`)).json()) as Record<string, any>;
  expect(snap.status).toBe("interrupted");
  expect(snap.lastSeq).toBe(seen.at(-1)!.seq);
  expect(snap.stages.map((s: any) => [s.id, s.status, s.output, s.outputLength, s.outputTruncated])).toEqual([
    ["draft", "cancelled", streamed, streamed.length, false],
    ["polish", "cancelled", "", 0, false],
  ]);
  const full = await fetch(`${server.url}/api/executions/${id}/stages/draft/output`);
  expect(await full.text()).toBe(streamed);

  const replay = await WsClient.open(`${server.url.replace("http", "ws")}/ws`);
  cleanup.push(async () => replay.close());
  const subscribed = await replay.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  expect(subscribed.lastSeq).toBe(seen.at(-1)!.seq);
  await replay.waitFor((m) => m.seq === subscribed.lastSeq);
  const replayed: WireEvent[] = replay.events(id);
  assertContiguous(replayed);
  expect(replayed).toEqual(seen);
  const list = (await (await fetch(`${server.url}/api/executions?status=interrupted`)).json()) as { executions: any[] };
  expect(list.executions.map((e) => e.id)).toEqual([id]);
});
