// The execution view through interruptions: a reload mid-stream, a WebSocket cut for real (TCP
// dropped under the browser), cancel from the button and from Escape, and a cold load of a
// finished execution's stable URL. Every run ends with the exact text the fake sent.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { WsClient, stageText } from "../server/harness.ts";
import { CONNECTION_BANNER, type E2E, SCREENSHOTS, createGate, useE2E } from "./harness.ts";
import {
  attr,
  card,
  outputText,
  selectView,
  settledOutput,
  waitExecutionStatus,
  waitFor,
  waitOutputText,
  waitStageStatus,
  waitVisible,
} from "./page-helpers.ts";

let e: E2E;
useE2E((ready) => (e = ready));

const CANCEL_BUTTON = '[data-testid="cancel-button"]';
const words = (n: number, tag: string) => Array.from({ length: n }, (_, k) => `${tag}-${k} `);

test("a reload mid-stream ends with the exact full text", async () => {
  const gate = createGate();
  const chunks = words(12, "reload");
  e.script("write: reload me", { kind: "stream", chunks, gate });
  const id = await e.run("one", "reload me");
  const page = await e.newPage();
  await page.goto(`${e.base}/executions/${id}`);
  gate.release(5);
  await waitStageStatus(page, "write", "running");
  await selectView(page, "write", "raw");
  await waitOutputText(page, "write", chunks.slice(0, 5).join(""));

  await page.reload();
  await waitStageStatus(page, "write", "running");
  await selectView(page, "write", "raw");
  await waitOutputText(page, "write", chunks.slice(0, 5).join(""));
  gate.release(chunks.length - 5);
  await waitStageStatus(page, "write", "completed");
  await waitExecutionStatus(page, "success");
  const sent = e.sentFor("write: reload me").map((c) => c.text).join("");
  expect(await settledOutput(page, "write", sent)).toBe(sent);
  expect(e.sentFor("write: reload me").length).toBe(chunks.length);
  await page.close();
});

test("a dropped WebSocket shows the disconnected banner, then resumes with no chunk missing or doubled", async () => {
  const gate = createGate();
  const chunks = words(15, "drop");
  e.script("write: drop me", { kind: "stream", chunks, gate });
  const id = await e.run("one", "drop me");
  // A watcher of our own, straight to the server, tells when the server has stored chunks the browser cannot get.
  const watcher = await WsClient.open(`${e.base.replace("http", "ws")}/ws`);
  watcher.send({ type: "subscribe", executionId: id });
  const page = await e.newPage();
  await page.goto(`${e.proxyBase}/executions/${id}`);
  gate.release(4);
  await waitStageStatus(page, "write", "running");
  await selectView(page, "write", "raw");
  await waitOutputText(page, "write", chunks.slice(0, 4).join(""));
  expect(await page.isVisible(CONNECTION_BANNER)).toBe(false);

  e.proxy.setOffline(true);
  e.proxy.dropAll();
  await waitVisible(page, CONNECTION_BANNER);
  gate.release(6);
  const upTo10 = chunks.slice(0, 10).join("");
  await watcher.waitFor(() => stageText(watcher.events(id), "write") === upTo10);
  // Offline: the page still shows only what it had.
  expect(await outputText(page, "write")).toBe(chunks.slice(0, 4).join(""));

  e.proxy.setOffline(false);
  await waitOutputText(page, "write", upTo10);
  await waitVisible(page, CONNECTION_BANNER, "hidden");
  gate.release(chunks.length - 10);
  await waitExecutionStatus(page, "success");
  const sent = e.sentFor("write: drop me").map((c) => c.text).join("");
  expect(await settledOutput(page, "write", sent)).toBe(sent);
  expect(e.sentFor("write: drop me").length).toBe(chunks.length);
  watcher.close();
  await page.close();
});

for (const how of ["cancel-button", "Escape"] as const) {
  test(`cancel with ${how}: the execution ends cancelled and the model connection is closed`, async () => {
    const abortedBefore = e.fake.aborted;
    e.script(`write: cancel by ${how}`, { kind: "hang", chunks: ["thinking about ", "it"] });
    const id = await e.run("one", `cancel by ${how}`);
    const page = await e.newPage();
    await page.goto(`${e.base}/executions/${id}`);
    await waitStageStatus(page, "write", "running");
    await selectView(page, "write", "raw");
    await waitOutputText(page, "write", "thinking about it");
    if (how === "cancel-button") await page.click(CANCEL_BUTTON);
    else await page.keyboard.press("Escape");
    await waitExecutionStatus(page, "cancelled");
    // Cancel is offered only while the run is queued or running.
    await waitVisible(page, CANCEL_BUTTON, "hidden");
    await e.fake.whenAborted(abortedBefore + 1);
    expect(e.fake.aborted).toBe(abortedBefore + 1);
    await waitStageStatus(page, "write", "cancelled");
    await page.close();
  });
}

test("the stable URL /executions/<id> loads a finished execution cold", async () => {
  const draft = ["# Release notes\n\n", "- faster **streaming**\n", "- a `cancel` button\n"];
  const polish = ["Release notes, polished: ", "streaming is faster, ", "and runs can be cancelled."];
  e.script("draft: write release notes", { kind: "stream", chunks: draft });
  e.script("polish: write release notes", { kind: "stream", chunks: polish });
  const id = await e.run("two", "write release notes");
  expect(await e.finished(id)).toBe("success");

  const page = await e.newPage();
  const res = await page.goto(`${e.base}/executions/${id}`);
  expect(res?.status()).toBe(200);
  await waitExecutionStatus(page, "success");
  expect(await attr(page, card("draft"), "data-status")).toBe("completed");
  expect(await attr(page, card("polish"), "data-status")).toBe("completed");
  // Nothing to cancel; and the figures are those a live view showed (the snapshot has each stage's
  // full result): a measured time to first token, and "unknown" for the fake's unpriced model.
  expect(await page.$(CANCEL_BUTTON)).toBeNull();
  const figures = await page.$$eval('[data-testid="stage-card"]', (cards) =>
    cards.map((c) => [c.getAttribute("data-stage-id"), c.querySelector('[title="Time to first token"] dd')?.textContent, c.querySelector('[title="Cost"] dd')?.textContent]),
  );
  expect(figures.map(([id, ttft, cost]) => [id, /^(\d+ms|\d+\.\ds)$/.test(ttft ?? ""), cost])).toEqual([
    ["draft", true, "unknown"],
    ["polish", true, "unknown"],
  ]);
  await selectView(page, "polish", "raw");
  expect(await settledOutput(page, "polish", polish.join(""))).toBe(polish.join(""));
  await selectView(page, "draft", "rendered");
  await page.screenshot({ path: join(SCREENSHOTS, "execution-completed.png"), fullPage: true });
  await selectView(page, "draft", "raw");
  expect(await settledOutput(page, "draft", draft.join(""))).toBe(draft.join(""));
  await page.close();
});
