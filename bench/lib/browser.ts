// Headless Chromium for the browser benchmarks (playwright-core driving /usr/bin/chromium), and the
// dashboard they measure, built from the current sources.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { CHROMIUM, launchChromium } from "../../tests/helpers/chromium.ts";

export const REPO = resolve(import.meta.dir, "../..");

export type Dashboard = { webDir: string; skipped: null } | { webDir: null; skipped: string };
let prepared: Promise<Dashboard> | undefined;

/**
 * The dashboard built from the current sources into a temp dir of this run (never web/dist, which a
 * developer or another build may be writing, and which may be stale): built once per process.
 */
export function prepareDashboard(log: (line: string) => void): Promise<Dashboard> {
  prepared ??= (async (): Promise<Dashboard> => {
    if (!existsSync(CHROMIUM)) return { webDir: null, skipped: `no Chromium at ${CHROMIUM}` };
    if (!existsSync(join(REPO, "web", "vite.config.ts"))) return { webDir: null, skipped: "the dashboard sources (web/) are missing" };
    const outDir = mkdtempSync(join(tmpdir(), "stagecast-bench-web-"));
    process.once("exit", () => rmSync(outDir, { recursive: true, force: true }));
    log("  building the dashboard from the current sources…");
    const build = Bun.spawn(["bun", "--bun", "vite", "build", "--config", "web/vite.config.ts", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"], {
      cwd: REPO,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(build.stderr).text(), build.exited]);
    if (code !== 0) return { webDir: null, skipped: `the dashboard build failed: ${stderr.trim().split("\n").slice(-3).join(" / ")}` };
    const index = readFileSync(join(outDir, "index.html"), "utf8");
    if (!/<script[^>]+src=/.test(index)) return { webDir: null, skipped: "the built index.html loads no script" };
    return { webDir: outDir, skipped: null };
  })();
  return prepared;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = await mkdtemp(join(tmpdir(), "stagecast-bench-chromium-"));
  const context = await launchChromium(userDataDir, { width: 1280, height: 900 });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Bench clock minus page clock (ms), from the round trip with the smallest delay. */
export async function clockOffset(page: Page): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 10; i++) {
    const t1 = performance.timeOrigin + performance.now();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t2 = performance.timeOrigin + performance.now();
    if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: (t1 + t2) / 2 - pageNow };
  }
  return best.offset;
}

/** The card and output of one stage, by the dashboard's test hooks. */
export const stageCard = (stageId: string) => `[data-testid="stage-card"][data-stage-id="${stageId}"]`;
export const stageOutput = (stageId: string) => `${stageCard(stageId)} [data-testid="stage-output"]`;

/** Makes the stage's output visible in the raw view (expanding the card if it is collapsed). */
export async function showRawOutput(page: Page, stageId: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForSelector(stageCard(stageId), { timeout: timeoutMs });
  if ((await page.$(stageOutput(stageId))) === null) {
    const toggle = await page.$(`${stageCard(stageId)} [data-testid="stage-output-toggle"]`);
    await toggle?.click();
  }
  const raw = await page.$(`${stageCard(stageId)} [data-testid="stage-output-view"][data-view="raw"]`);
  await raw?.click();
  await page.waitForSelector(stageOutput(stageId), { timeout: timeoutMs });
}
