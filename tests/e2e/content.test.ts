// What the output viewer shows: a 1 MB output with a bounded DOM, hostile markdown rendered
// inert, and a command-line tool's ANSI colours in the terminal view (light and dark).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ANSI_TEXT, type E2E, SCREENSHOTS, createGate, useE2E } from "./harness.ts";
import {
  attr,
  countNodes,
  expand,
  markScroller,
  output,
  scrollState,
  selectView,
  settledOutput,
  toggle,
  waitAtBottom,
  waitExecutionStatus,
  waitFor,
  waitStageStatus,
  waitTextVisible,
} from "./page-helpers.ts";
import { installProbes, readProbes } from "./probes.ts";

let e: E2E;
useE2E((ready) => (e = ready));

test("a 1 MB output completes and the page keeps a bounded DOM showing its end", async () => {
  const LINES = 16_384;
  // 64 bytes a line, 64 lines a chunk: 1 MiB in 256 chunks of 4 KiB.
  const line = (i: number) => `line ${String(i).padStart(6, "0")} ${"abcdefghij".repeat(6).slice(0, 51)}\n`;
  const chunks: string[] = [];
  for (let i = 0; i < LINES; i += 64) chunks.push(Array.from({ length: 64 }, (_, j) => line(i + j)).join(""));
  expect(chunks.join("").length).toBe(1024 * 1024);
  const gate = createGate();
  e.script("write: a megabyte", { kind: "stream", chunks, gate });
  const id = await e.run("one", "a megabyte");
  const page = await e.newPage();
  await installProbes(page);
  await page.goto(`${e.base}/executions/${id}`);
  gate.release();
  await waitStageStatus(page, "write", "running");
  const streamStart = await page.evaluate(() => performance.now());
  gate.release(chunks.length);
  await waitStageStatus(page, "write", "completed");
  await waitExecutionStatus(page, "success");
  await expand(page, "write");
  const lastLine = line(LINES - 1).trimEnd();
  const nodes: Record<string, number> = {};
  for (const view of ["rendered", "raw", "terminal"] as const) {
    await selectView(page, "write", view);
    // The end of the output is what a finished run shows (virtualized, or an honest tail), on screen.
    await waitTextVisible(page, "write", lastLine);
    nodes[view] = await countNodes(page, output("write"));
    if (view === "raw") await page.screenshot({ path: join(SCREENSHOTS, "execution-large-output.png") });
  }
  const probes = await readProbes(page);
  const during = probes.longtasks.filter((t) => t.start >= streamStart);
  const longest = Math.max(0, ...during.map((t) => t.duration));
  const gaps = probes.gaps.filter((g) => g.start >= streamStart).map((g) => g.gap);
  const pageNodes = await countNodes(page, "body");
  // Printed, not asserted: timing budgets belong to the benchmark (bench/), not to the test suite.
  console.log(
    `[figures] 1 MB output (${LINES} lines): longest main-thread task while it streamed and rendered: ` +
      `${during.length ? `${longest.toFixed(0)} ms` : "none over 50 ms (the longtask API reports only those)"}; ` +
      `longest gap between frames ${Math.max(16.7, ...gaps).toFixed(0)} ms (${gaps.length} gaps over 34 ms); ` +
      `long tasks during the page load before it: ${probes.longtasks.filter((t) => t.start < streamStart).map((t) => `${t.duration.toFixed(0)} ms`).join(", ") || "none"}; ` +
      `nodes in stage-output per view ${JSON.stringify(nodes)}; whole page ${pageNodes}`,
  );
  // Far below one node per line: the panel is virtualized or shows a tail.
  for (const [view, n] of Object.entries(nodes)) expect({ view, n, bounded: n < LINES / 20 }).toEqual({ view, n, bounded: true });
  // Still usable: the panel collapses and opens again.
  await page.click(toggle("write"));
  expect(await attr(page, toggle("write"), "aria-expanded")).toBe("false");
  await page.click(toggle("write"));
  expect(await attr(page, toggle("write"), "aria-expanded")).toBe("true");

  // A cold load of the finished run starts from the snapshot (a 100 KB tail) and opens at its end,
  // following like a live run, with no key pressed and no scrolling; the DOM stays bounded.
  await page.reload();
  await waitExecutionStatus(page, "success");
  await selectView(page, "write", "raw");
  expect(await markScroller(page, "write")).toBe(true);
  await waitAtBottom(page);
  await waitTextVisible(page, "write", lastLine);
  expect((await scrollState(page)).atBottom).toBe(true);
  const coldNodes = await countNodes(page, output("write"));
  console.log(`[figures] 1 MB output, cold load: ${coldNodes} nodes in stage-output (raw view)`);
  expect({ coldNodes, bounded: coldNodes < LINES / 20 }).toEqual({ coldNodes, bounded: true });
  await page.close();
});

test("markdown with <script> and <img onerror> renders inert in the rendered view", async () => {
  const chunks = [
    "# Findings\n\n",
    "Some *emphasis* here.\n\n",
    "<script>window.__xssScript = 1</script>\n\n",
    '<img src="x" onerror="window.__xssImg = 1">\n\n',
    "[a link](javascript:window.__xssLink=1)\n",
  ];
  e.script("render: hostile", { kind: "stream", chunks });
  const id = await e.run("md", "hostile");
  const page = await e.newPage();
  await page.goto(`${e.base}/executions/${id}`);
  await waitExecutionStatus(page, "success");
  await selectView(page, "render", "rendered");
  await waitFor(page, `${output("render")} h1`, "the rendered markdown heading");
  expect(await page.textContent(`${output("render")} h1`)).toBe("Findings");
  expect(await page.textContent(`${output("render")} em`)).toBe("emphasis");
  // Any image left must have finished (failed) loading before the flags can prove onerror never ran.
  await page.waitForFunction((s) => [...document.querySelectorAll(`${s} img`)].every((i) => (i as HTMLImageElement).complete), output("render"));
  const found = await page.evaluate((s) => {
    const root = document.querySelector(s) as Element;
    const w = window as unknown as Record<string, unknown>;
    return {
      scripts: root.querySelectorAll("script").length,
      handlers: [...root.querySelectorAll("*")].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.tagName}.${a.name}`)),
      jsLinks: [...root.querySelectorAll("a")].filter((a) => a.getAttribute("href")?.trim().toLowerCase().startsWith("javascript:")).length,
      flags: [w.__xssScript, w.__xssImg, w.__xssLink],
    };
  }, output("render"));
  expect(found).toEqual({ scripts: 0, handlers: [], jsLinks: 0, flags: [undefined, undefined, undefined] });
  await selectView(page, "render", "raw");
  expect(await settledOutput(page, "render", chunks.join(""))).toBe(chunks.join(""));
  await page.close();
});

for (const dark of [false, true]) {
  test(`a command stage's ANSI colours show in the terminal view (${dark ? "dark" : "light"} mode)`, async () => {
    const id = await e.run("command-ansi", "build it");
    const page = await e.newPage({ dark });
    await page.goto(`${e.base}/executions/${id}`);
    await waitExecutionStatus(page, "success");
    await selectView(page, "build", "raw");
    expect(await settledOutput(page, "build", ANSI_TEXT)).toBe(ANSI_TEXT);
    await selectView(page, "build", "terminal");
    const plain = ANSI_TEXT.replace(/\x1b\[[0-9;]*m/g, "");
    expect(await settledOutput(page, "build", plain)).toBe(plain);
    const colours = await page.evaluate((s) => {
      const root = document.querySelector(s) as Element;
      const colourOf = (text: string) => {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const node = walker.currentNode;
          if (node.textContent?.includes(text)) return getComputedStyle(node.parentElement as Element).color;
        }
        return null;
      };
      return { passed: colourOf("tests passed"), failed: colourOf("lint failed"), plain: colourOf("plain line") };
    }, output("build"));
    expect(colours.passed).not.toBeNull();
    expect(colours.passed).not.toBe(colours.plain);
    expect(colours.failed).not.toBe(colours.plain);
    expect(colours.failed).not.toBe(colours.passed);
    await page.screenshot({ path: join(SCREENSHOTS, dark ? "cli-ansi-dark.png" : "cli-ansi.png") });
    await page.close();
  });
}
