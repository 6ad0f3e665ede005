// The execution view while a stage streams: run from the form, text growing chunk by chunk, the
// output toggle, auto-follow and its pause, layout stability and chunk→screen latency.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type E2E, JUMP_TO_LATEST, SCREENSHOTS, createGate, useE2E } from "./harness.ts";
import {
  attr,
  card,
  frames,
  markScroller,
  output,
  scrollSettled,
  scrollState,
  selectView,
  settledOutput,
  toggle,
  waitAtBottom,
  waitExecutionStatus,
  waitFor,
  waitOutputIncludes,
  waitOutputText,
  waitStageStatus,
  waitVisible,
} from "./page-helpers.ts";
import { cls, installProbes, percentile, readProbes, resetTextProbe } from "./probes.ts";

let e: E2E;
useE2E((ready) => (e = ready));

describe("run from the form", () => {
  test("the stage's text grows chunk by chunk while its card is running", async () => {
    const gate = createGate();
    const chunks = ["The quick ", "brown fox ", "jumps over ", "the lazy dog."];
    e.script("write: a fox", { kind: "stream", chunks, gate });
    const page = await e.newPage();
    await page.goto(`${e.base}/pipelines/one`);
    await page.fill('[data-testid="run-input"]', "a fox");
    await page.click('[data-testid="run-button"]');
    await page.waitForURL(/\/executions\/[^/]+$/);
    gate.release();
    await waitStageStatus(page, "write", "running");
    await selectView(page, "write", "raw");
    for (let k = 1; k <= chunks.length; k++) {
      if (k > 1) gate.release();
      await waitOutputText(page, "write", chunks.slice(0, k).join(""));
      // The fake has not sent the rest, so the stage cannot have finished: the text grew while running.
      if (k < chunks.length) expect(await attr(page, card("write"), "data-status")).toBe("running");
    }
    await waitStageStatus(page, "write", "completed");
    await waitExecutionStatus(page, "success");
    expect(await settledOutput(page, "write", chunks.join(""))).toBe("The quick brown fox jumps over the lazy dog.");
    expect(e.requestFor("write: a fox")).toBeDefined();
    await page.close();
  });

  test("Ctrl+Enter in the input runs the pipeline", async () => {
    e.script("write: keys", { kind: "stream", chunks: ["Ran ", "from the keyboard."] });
    const page = await e.newPage();
    await page.goto(`${e.base}/pipelines/one`);
    await page.fill('[data-testid="run-input"]', "keys");
    await page.press('[data-testid="run-input"]', "Control+Enter");
    await page.waitForURL(/\/executions\/[^/]+$/);
    await waitExecutionStatus(page, "success");
    expect(e.requestFor("write: keys")).toBeDefined();
    await selectView(page, "write", "raw");
    expect(await settledOutput(page, "write", "Ran from the keyboard.")).toBe("Ran from the keyboard.");
    await page.close();
  });
});

test("the output toggle: pending stages start collapsed, the running stage opens itself, aria-expanded flips", async () => {
  const draftGate = createGate();
  const polishGate = createGate();
  e.script("draft: toggle", { kind: "stream", chunks: ["draft one", " draft two"], gate: draftGate });
  e.script("polish: toggle", { kind: "stream", chunks: ["polished"], gate: polishGate });
  const id = await e.run("two", "toggle");
  const page = await e.newPage();
  await page.goto(`${e.base}/executions/${id}`);
  draftGate.release();
  await waitStageStatus(page, "draft", "running");
  await waitFor(page, toggle("polish"), "stage-output-toggle of polish");
  expect(await attr(page, card("polish"), "data-status")).toBe("pending");
  expect(await attr(page, toggle("polish"), "aria-expanded")).toBe("false");
  await waitFor(page, `${toggle("draft")}[aria-expanded="true"]`, "draft toggle auto-expanded");

  await page.click(toggle("draft"));
  expect(await attr(page, toggle("draft"), "aria-expanded")).toBe("false");
  expect(await page.isVisible(output("draft"))).toBe(false);
  await page.click(toggle("draft"));
  expect(await attr(page, toggle("draft"), "aria-expanded")).toBe("true");
  await waitFor(page, output("draft"));
  expect(await page.isVisible(output("draft"))).toBe(true);

  draftGate.release();
  await waitStageStatus(page, "polish", "running");
  await waitFor(page, `${toggle("polish")}[aria-expanded="true"]`, "polish toggle auto-expanded once running");
  polishGate.release();
  await waitExecutionStatus(page, "success");
  await page.close();
});

test("auto-follow keeps the newest line in view, pauses when the user scrolls up, resumes from 'jump to latest'", async () => {
  const gate = createGate();
  const lines = (k: number) => Array.from({ length: 10 }, (_, i) => `chunk ${String(k).padStart(2, "0")} line ${i}\n`).join("");
  const chunks = Array.from({ length: 40 }, (_, k) => lines(k));
  e.script("write: follow", { kind: "stream", chunks, gate });
  const id = await e.run("one", "follow");
  const page = await e.newPage();
  await page.goto(`${e.base}/executions/${id}`);
  gate.release();
  await waitStageStatus(page, "write", "running");
  await selectView(page, "write", "raw");
  await waitOutputText(page, "write", chunks[0] as string);
  expect(await markScroller(page, "write")).toBe(true);

  // Stream until the panel holds well over two screens of text, following all the way.
  let sent = 1;
  while (sent < 12) {
    gate.release();
    sent++;
    await waitOutputText(page, "write", chunks.slice(0, sent).join(""));
    await waitAtBottom(page);
  }
  const before = await scrollState(page);
  expect(before.height).toBeGreaterThan(2 * before.client);

  // The user scrolls up with the wheel: following stops and the position stays put as text grows.
  const box = await page.locator("[data-e2e-scroller]").boundingBox();
  if (!box) throw new Error("scroller has no box");
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -Math.round(before.client));
  const top = await scrollSettled(page);
  expect((await scrollState(page)).atBottom).toBe(false);
  gate.release(2);
  sent += 2;
  await waitOutputText(page, "write", chunks.slice(0, sent).join(""));
  await frames(page, 3);
  expect((await scrollState(page)).top).toBe(top);
  await waitVisible(page, JUMP_TO_LATEST);
  // Two chunks of ten lines arrived while paused.
  expect(await page.textContent(JUMP_TO_LATEST)).toMatch(/(^|\D)20 new lines/);

  await page.click(JUMP_TO_LATEST);
  await waitAtBottom(page);
  await waitVisible(page, JUMP_TO_LATEST, "hidden");
  gate.release();
  sent++;
  await waitOutputText(page, "write", chunks.slice(0, sent).join(""));
  await waitAtBottom(page);

  gate.release(chunks.length);
  await waitExecutionStatus(page, "success");
  await page.close();
});

test("a streaming run shifts the layout by < 0.1 (cumulative layout shift)", async () => {
  const gate = createGate();
  const chunks = Array.from({ length: 64 }, (_, k) => (k % 8 === 7 ? `token${k}\n` : `token${k} `));
  e.script("draft: layout", { kind: "stream", chunks, gate });
  const id = await e.run("two", "layout");
  const page = await e.newPage();
  await installProbes(page);
  await page.goto(`${e.base}/executions/${id}`);
  gate.release();
  await waitStageStatus(page, "draft", "running");
  // No clicks in this test (input would excuse the shifts after it): the default view, waited on by its newest word.
  await waitOutputIncludes(page, "draft", "token0");
  for (let k = 2; k <= chunks.length; k++) {
    gate.release();
    await waitOutputIncludes(page, "draft", `token${k - 1}`);
    if (k === 48) await page.screenshot({ path: join(SCREENSHOTS, "execution-streaming.png") });
  }
  await waitExecutionStatus(page, "success");
  await frames(page, 2);
  const probes = await readProbes(page);
  const shift = cls(probes);
  const entries = probes.shifts.map((s) => `${s.value.toFixed(4)}${s.hadRecentInput ? " (after input)" : ""} ${s.sources.join(",")}`);
  console.log(`[figures] CLS during a streaming run: ${shift.toFixed(4)} (${probes.shifts.length} layout-shift entries${entries.length ? `: ${entries.join("; ")}` : ""})`);
  expect(shift).toBeLessThan(0.1);
  await page.close();
});

test("every chunk reaches the screen in order (prints chunk→screen latency)", async () => {
  const gate = createGate();
  const chunks = Array.from({ length: 80 }, (_, k) => (k % 8 === 7 ? `word${k}\n` : `word${k} `));
  e.script("write: latency", { kind: "stream", chunks, gate });
  const id = await e.run("one", "latency");
  // A WebSocket client in this process splits the path: fake → server → socket, then socket → browser DOM.
  const wsSeen: { end: number; at: number }[] = [];
  const watcher = new WebSocket(`${e.base.replace("http", "ws")}/ws`);
  await new Promise((resolve) => watcher.addEventListener("open", resolve, { once: true }));
  watcher.addEventListener("message", (ev) => {
    const m = JSON.parse(String(ev.data)) as { type: string; offset?: number; output?: string };
    if (m.type === "stage:output") wsSeen.push({ end: (m.offset ?? 0) + (m.output ?? "").length, at: performance.timeOrigin + performance.now() });
  });
  watcher.send(JSON.stringify({ type: "subscribe", executionId: id }));
  const page = await e.newPage();
  await installProbes(page);
  await page.goto(`${e.base}/executions/${id}`);
  gate.release();
  await waitStageStatus(page, "write", "running");
  await selectView(page, "write", "raw");
  await waitOutputText(page, "write", chunks[0] as string);
  await resetTextProbe(page);
  for (let k = 2; k <= chunks.length; k++) {
    gate.release();
    await waitOutputText(page, "write", chunks.slice(0, k).join(""));
  }
  await waitExecutionStatus(page, "success");
  await frames(page, 2);
  watcher.close();
  const probes = await readProbes(page);

  const sent = e.sentFor("write: latency");
  expect(sent.map((s) => s.text)).toEqual(chunks);
  // The output only ever grew, never shrank or jumped back (no duplicate and no reordering on screen).
  const lens = (probes.texts.write ?? []).map((r) => r.len);
  expect(lens).toEqual([...lens].sort((a, b) => a - b));
  // A chunk is on screen when the output first reaches the length of everything up to it.
  const toWs: number[] = [];
  const toDom: number[] = [];
  const toFrame: number[] = [];
  let upTo = chunks[0]?.length ?? 0;
  for (let k = 1; k < chunks.length; k++) {
    upTo += (chunks[k] as string).length;
    const at = (sent[k] as { at: number }).at;
    const ws = wsSeen.find((w) => w.end >= upTo);
    const hit = (probes.texts.write ?? []).find((r) => r.len >= upTo);
    if (!ws || !hit) throw new Error(`chunk ${k} (up to ${upTo} chars) never reached ${ws ? "stage-output" : "the WebSocket"}`);
    toWs.push(ws.at - at);
    toDom.push(hit.dom - at);
    toFrame.push(hit.frame - at);
  }
  const fig = (v: number[]) => `p50 ${percentile(v, 0.5).toFixed(1)} / p95 ${percentile(v, 0.95).toFixed(1)} / max ${Math.max(...v).toFixed(1)} ms`;
  console.log(
    `[figures] chunk sent by the fake (${toDom.length} chunks, one at a time) → WebSocket message at a client: ${fig(toWs)}; ` +
      `→ text in stage-output DOM (painted in that frame): ${fig(toDom)}; → start of the next frame (upper bound): ${fig(toFrame)}`,
  );
  await page.close();
});
