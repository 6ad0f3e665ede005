// Screenshots and figures of the harness in real Chromium: `bun web/dev/shoot.ts [outDir]` after building
// the harness. Prints the longest main-thread task and the layout-shift score per scenario.
import { join } from "node:path";
import { openHarness } from "./harness-browser.ts";

const outDir = process.argv[2] ?? "/tmp/stagecast-shots";
const { url: harnessUrl, browser, close } = await openHarness();

interface Shot {
  name: string;
  query: string;
  /** after loading: actions in the page */
  act?: (page: import("playwright-core").Page) => Promise<void>;
  height?: number;
  fullPage?: boolean;
}
const only = process.env.ONLY;
const shots0: Shot[] = (process.env.SHOTS ? process.env.SHOTS.split(",") : ["all"]).includes("all")
  ? [
      { name: "mixed-streaming-light", query: "scenario=mixed&perFrame=2&stopAt=70" },
      { name: "mixed-streaming-dark", query: "scenario=mixed&perFrame=2&stopAt=70&theme=dark" },
      { name: "mixed-completed-light", query: "scenario=mixed&perFrame=6", fullPage: true },
      { name: "mixed-completed-dark", query: "scenario=mixed&perFrame=6&theme=dark", height: 1300 },
      { name: "big-streaming", query: "scenario=big&perFrame=4&stopAt=120" },
      { name: "big-completed", query: "scenario=big&perFrame=4" },
      { name: "big-burst", query: "scenario=big&perFrame=64" },
      { name: "bigcli-burst", query: "scenario=bigcli&perFrame=64" },
      { name: "bigcli-completed-dark", query: "scenario=bigcli&perFrame=4&theme=dark" },
      {
        name: "search-lint-light",
        query: "scenario=mixed&perFrame=6",
        act: async (page) => {
          await page.locator('[data-stage-id="draft"] [data-testid=stage-output-toggle]').click();
          await page.locator('[data-stage-id="lint"] input[type=search]').fill("warning");
          await page.locator('[data-stage-id="lint"] input[type=search]').press("Enter");
        },
      },
      {
        name: "tail-jump-dark",
        query: "scenario=big&perFrame=1&tail=1&stopAt=200&theme=dark",
        act: async (page) => {
          await page.locator('[data-stage-id="ingest"] [data-testid=stage-output-view][data-view=terminal]').click();
        },
      },
    ]
  : [];
const shots = only ? shots0.filter((s) => s.name === only) : shots0;

for (const shot of shots) {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1100, height: shot.height ?? 900 });
  page.on("pageerror", (e) => console.error(`[${shot.name}] page error:`, e.message));
  page.on("console", (m) => m.type() === "error" && console.error(`[${shot.name}] console:`, m.text()));
  await page.goto(`${harnessUrl}?${shot.query}`);
  await page.waitForFunction(() => window.__harness.done, undefined, { timeout: 120_000 });
  if (shot.act) await shot.act(page);
  await page.screenshot({ path: join(outDir, `${shot.name}.png`), fullPage: shot.fullPage ?? false });
  const figures = await page.evaluate(() => ({
    // tasks while streaming (after the harness built its synthetic text)
    longest: Math.max(0, ...window.__longtasks.filter((t) => t.start >= window.__harness.streamStart).map((t) => t.duration)),
    setup: window.__longtasks.filter((t) => t.start < window.__harness.streamStart).map((t) => Math.round(t.duration)),
    cls: window.__cls,
    shifts: window.__shifts.slice(0, 5),
    frames: window.__harness.frames,
    loaf: (window as unknown as { __loaf: { start: number }[] }).__loaf.filter((l) => l.start >= window.__harness.streamStart),
    at: window.__longtasks
      .filter((t) => t.start >= window.__harness.streamStart)
      .map((t) => [Math.round(t.start), Math.round(t.duration), ((window.__harness as unknown as { log: [number, number][] }).log ?? []).filter(([ts]) => ts <= t.start + t.duration + 20).slice(-2)]),
  }));
  console.log(shot.name, JSON.stringify(figures));
  await page.close();
}
await close();
