// Cancel and the queue: cancel aborts the model call at once (the fake sees the connection close),
// nothing follows `execution:cancelled`, and executions past the concurrency limit wait in sight.
import { afterEach, expect, test } from "bun:test";
import { type Harness, assertContiguous, isFinal, setup, stageText } from "./harness.ts";

let h: Harness;
afterEach(async () => {
  await h.close();
});

test("cancel stops the model call and nothing follows execution:cancelled", async () => {
  h = await setup();
  h.fake.enqueue({ kind: "hang", chunks: ["partial ", "answer"] });
  const client = await h.ws();
  const id = await h.run("two", "never finishes");
  client.send({ type: "subscribe", executionId: id });
  await client.waitFor((m) => m.type === "stage:output" && (m.offset as number) + (m.output as string).length === "partial answer".length);

  const res = await h.api(`/api/executions/${id}/cancel`, { method: "POST" });
  expect(res.status).toBe(202);
  await h.fake.whenAborted(1);
  const final = await client.waitFor(isFinal(id));
  expect(final.type).toBe("execution:cancelled");
  await h.server.manager.whenDone(id);

  const events = client.events(id);
  assertContiguous(events);
  expect(events.at(-1)).toEqual(final as never);
  expect(stageText(events, "draft")).toBe("partial answer");
  expect(events.some((e) => e.type === "stage:started" && e.stage.id === "polish")).toBe(false);
  const snap = (await (await h.api(`/api/executions/${id}`)).json()) as Record<string, any>;
  expect(snap.status).toBe("cancelled");
  expect(snap.lastSeq).toBe(final.seq);
  expect(snap.stages.map((s: any) => [s.id, s.status, s.output])).toEqual([
    ["draft", "cancelled", "partial answer"],
    ["polish", "cancelled", ""],
  ]);
  expect(h.fake.modelRequests.length).toBe(1);
  const again = await h.api(`/api/executions/${id}/cancel`, { method: "POST" });
  expect(again.status).toBe(409);
});

test("past the concurrency limit executions queue visibly; watch-executions reports every change", async () => {
  h = await setup({ maxConcurrent: 1 });
  h.fake.enqueue({ kind: "hang", chunks: ["busy"] }, { kind: "stream", chunks: ["second done"] });
  const watcher = await h.ws();
  await watcher.request({ type: "watch-executions" }, (m) => m.type === "executions");
  const first = await h.run("one", "a");
  const second = await h.run("one", "b");
  const third = await h.run("one", "c");

  const list = (await (await h.api("/api/executions?status=queued")).json()) as { executions: any[] };
  expect(list.executions.map((e) => [e.id, e.queuePosition])).toEqual([
    [third, 2],
    [second, 1],
  ]);
  const running = (await (await h.api("/api/executions?status=running")).json()) as { executions: any[] };
  expect(running.executions.map((e) => e.id)).toEqual([first]);

  // Cancelling a queued execution ends it without a model call.
  expect((await h.api(`/api/executions/${third}/cancel`, { method: "POST" })).status).toBe(202);
  const cancelledList = await watcher.waitFor(
    (m) => m.type === "executions" && (m.executions as any[]).some((e) => e.id === third && e.status === "cancelled"),
  );
  expect((cancelledList.executions as any[]).find((e) => e.id === second).status).toBe("queued");

  expect((await h.api(`/api/executions/${first}/cancel`, { method: "POST" })).status).toBe(202);
  await h.server.manager.whenDone(first);
  await h.server.manager.whenDone(second);
  const statuses = async () =>
    ((await (await h.api("/api/executions")).json()) as { executions: any[] }).executions.map((e) => [e.id, e.status]);
  expect(await statuses()).toEqual([
    [third, "cancelled"],
    [second, "success"],
    [first, "cancelled"],
  ]);
  expect(h.fake.modelRequests.length).toBe(2);
  const seenSecond = watcher.messages
    .filter((m) => m.type === "executions")
    .map((m) => (m.executions as any[]).find((e) => e.id === second)?.status)
    .filter((s, i, all) => s !== undefined && s !== all[i - 1]);
  expect(seenSecond).toEqual(["queued", "running", "success"]);
});
