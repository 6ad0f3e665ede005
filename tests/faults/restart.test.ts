// The server killed (SIGKILL) mid-run and started again on the same data: the run is `interrupted`,
// every chunk a viewer had seen is still there (snapshot, full output, replay from 0), the model call
// died with the server, and the restarted server runs new work normally.
import { afterEach, expect, test } from "bun:test";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { WsClient, assertContiguous, isFinal, stageText, startKillableServer } from "../server/harness.ts";
import { expectKept, liveTimers, outline } from "./fault-harness.ts";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

test("kill -9 mid-stage, then restart: interrupted, nothing streamed is lost, new runs work", async () => {
  const gate = createGate();
  const chunks = Array.from({ length: 10 }, (_, i) => `${i}: ${"日本語😀".repeat(i + 1)}\n`);
  const { fake, cwd, dataDir, child, url } = await startKillableServer(cleanup, { kind: "stream", chunks, gate });
  const res = await fetch(`${url}/api/pipelines/two/run`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ input: "then the power went out" }),
  });
  const { executionId: id } = (await res.json()) as { executionId: string };
  const live = await WsClient.open(`${url.replace("http", "ws")}/ws`);
  cleanup.push(async () => live.close());
  await live.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  gate.release(4);
  const streamed = chunks.slice(0, 4).join("");
  await live.waitFor((m) => m.type === "stage:output" && (m.offset as number) + (m.output as string).length === streamed.length);

  child.kill("SIGKILL");
  expect(await child.exited).toBe(137);
  expect(child.signalCode).toBe("SIGKILL");
  await live.closed;
  await fake.whenAborted(1); // the model call died with the server
  const seen = live.events(id);
  assertContiguous(seen);
  expect(stageText(seen, "draft")).toBe(streamed);
  expect(outline(seen)).toEqual(["execution:started", "stage:started draft"]);

  const timers = liveTimers();
  const server: RunningServer = await startServer({ port: 0, dataDir, cwd });
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await server.stop();
  });
  const h = { api: (path: string) => fetch(`${server.url}${path}`), wsUrl: `${server.url.replace("http", "ws")}/ws` };
  const replayed = await expectKept(h, id, {
    status: "interrupted",
    stages: [
      ["draft", "cancelled", streamed],
      ["polish", "cancelled", ""],
    ],
  });
  expect(replayed).toEqual(seen);
  expect(server.manager.summaries("interrupted").map((e) => e.id)).toEqual([id]);

  // The restarted server is healthy: a new run streams and completes.
  fake.enqueue({ kind: "stream", chunks: ["after ", "restart"] }, { kind: "stream", chunks: ["done"] });
  const again = await WsClient.open(h.wsUrl);
  const next = (await (await fetch(`${server.url}/api/pipelines/two/run`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "x" }) })).json()) as { executionId: string };
  again.send({ type: "subscribe", executionId: next.executionId });
  await again.waitFor(isFinal(next.executionId));
  await server.manager.whenDone(next.executionId);
  await expectKept(h, next.executionId, { status: "success", stages: [["draft", "completed", "after restart"], ["polish", "completed", "done"]] }, again);
  again.close();
  await again.closed;
  await server.stop();
  stopped = true;
  expect(liveTimers()).toBe(timers);
}, 30_000);
