// Ad-hoc checks of the execution components in real Chromium, against the dev harness (not a test suite:
// helper-8 owns the browser tests). `bun web/dev/check.ts` after building the harness.
import type { Page } from "playwright-core";
import { openHarness } from "./harness-browser.ts";

const { url: harnessUrl, browser, close } = await openHarness();
let failures = 0;
function check(name: string, ok: boolean, detail = ""): void {
  if (!ok) failures++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` — ${detail}` : ""}`);
}
async function open(query: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1100, height: 900 });
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${harnessUrl}?${query}`);
  return page;
}
const frames = () => new Promise<void>((r) => setTimeout(r, 0)); // yield to the page's event loop only
const card = (page: Page, id: string) => page.locator(`[data-testid=stage-card][data-stage-id="${id}"]`);

{
  const page = await open("scenario=mixed&perFrame=6");
  await page.waitForFunction(() => window.__harness.done);
  const statuses = await page.locator("[data-testid=stage-card]").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-stage-id")}:${e.getAttribute("data-status")}`));
  check("cards and statuses", statuses.join(",") === "draft:completed,lint:completed,review:completed,polish:completed,publish:failed", statuses.join(","));
  const texts = await page.evaluate(() => (window as unknown as { __texts: Record<string, string> }).__texts);
  for (const id of ["draft", "lint", "review"]) {
    await card(page, id).locator('[data-testid=stage-output-view][data-view=raw]').click();
    await page.waitForFunction((id) => {
      const el = document.querySelector(`[data-stage-id="${id}"] [data-testid=stage-output]`);
      return el?.tagName === "PRE";
    }, id);
    const text = await card(page, id).getByTestId("stage-output").evaluate((e) => e.textContent);
    check(`raw textContent is exactly the output (${id}, ${texts[id]!.length} chars)`, text === texts[id]);
  }
  const toggle = card(page, "draft").getByTestId("stage-output-toggle");
  check("toggle says expanded", (await toggle.getAttribute("aria-expanded")) === "true");
  const controls = await toggle.getAttribute("aria-controls");
  check("aria-controls names the panel", (await page.locator(`#${controls}`).count()) === 1, controls ?? "");
  await toggle.press("Enter");
  check("keyboard collapses", (await toggle.getAttribute("aria-expanded")) === "false" && (await card(page, "draft").getByTestId("stage-output").count()) === 0);
  await card(page, "lint").locator("input[type=search]").fill("warning");
  await page.waitForFunction(() => document.querySelector('[data-stage-id="lint"] .count')?.textContent === "1 of 7", undefined, { timeout: 3000 }).catch(async () => console.log("count:", await card(page, "lint").locator(".count").textContent()));
  check("search counts matches", true);
  await card(page, "lint").locator("input[type=search]").press("Enter");
  const label = await card(page, "lint").locator(".count").textContent();
  check("Enter goes to the next match", label === "2 of 7", label ?? "");
  const hl = await page.evaluate(() => [CSS.highlights.get("sc-search")?.size, CSS.highlights.get("sc-search-current")?.size]);
  check("matches highlighted (all, current)", hl[0] === 7 && hl[1] === 1, JSON.stringify(hl));
  await page.close();
}

{
  const page = await open("scenario=big&perFrame=1");
  await page.waitForFunction(() => window.__harness.frames > 30);
  await card(page, "ingest").locator('[data-testid=stage-output-view][data-view=raw]').click();
  const scroller = card(page, "ingest").locator(".scroller");
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await page.waitForFunction(() => window.__harness.frames > 60);
  const jump = card(page, "ingest").locator(".jump");
  const jumpText = (await jump.textContent())?.trim() ?? "";
  check("scrolled up: stops following and offers jump with a count", /Jump to latest \([\d,]+ new lines\)/.test(jumpText), jumpText);
  const top = await scroller.evaluate((el) => el.scrollTop);
  check("stays where the user scrolled", top === 0, String(top));
  const rows = await card(page, "ingest").locator(".row").count();
  if (rows === 0) {
    await page.screenshot({ path: "/tmp/stagecast-shots/debug-rows.png" });
    console.log(await card(page, "ingest").locator(".scroller").evaluate((el) => [el.scrollTop, el.scrollHeight, el.clientHeight, el.innerHTML.slice(0, 300)]));
  }
  check("virtualized: few rows in the DOM", rows > 10 && rows < 80, String(rows));
  await jump.click();
  await page.waitForFunction(() => window.__harness.frames > 70);
  const atBottom = await scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 8);
  check("jump follows the tail again", atBottom && (await jump.count()) === 0);
  await page.waitForFunction(() => window.__harness.done, undefined, { timeout: 120_000 });
  await card(page, "ingest").locator("input[type=search]").fill("batch 777 ");
  await page.waitForFunction(() => /of/.test(document.querySelector('[data-stage-id="ingest"] .count')?.textContent ?? ""));
  const found = await card(page, "ingest").locator(".count").textContent();
  const expected = await page.evaluate(() => (window as unknown as { __texts: Record<string, string> }).__texts.ingest!.split("batch 777 ").length - 1);
  check("search in 1 MB counts every match", found === `1 of ${expected}`, `${found} / ${expected}`);
  const visible = await page.evaluate(() => {
    const r = CSS.highlights.get("sc-search-current")?.values().next().value as Range | undefined;
    const s = document.querySelector('[data-stage-id="ingest"] .scroller')!.getBoundingClientRect();
    const b = r?.getBoundingClientRect();
    return b !== undefined && b.top >= s.top && b.bottom <= s.bottom;
  });
  check("the current match is scrolled into view", visible);
  await page.close();
}

{
  const page = await open("scenario=big&perFrame=1&tail=1&stopAt=160");
  await page.waitForFunction(() => window.__harness.done);
  const notice = (await card(page, "ingest").locator(".notice").textContent())?.replace(/\s+/g, " ").trim() ?? "";
  check("tail only: says so", notice.startsWith("Showing the last") && notice.includes("Load full output"), notice);
  await card(page, "ingest").getByRole("button", { name: "Load full output" }).click();
  await page.waitForFunction(() => !/Showing the last|Loading/.test(document.querySelector('[data-stage-id="ingest"] .notice')?.textContent ?? ""));
  const after = (await card(page, "ingest").locator(".notice").textContent())?.replace(/\s+/g, " ").trim();
  check("after loading the full output", after === "1.0 MB is too large to render as Markdown; showing the raw lines.", after);
  await page.close();
}

await close();
console.log(failures === 0 ? "all checks passed" : `${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);
