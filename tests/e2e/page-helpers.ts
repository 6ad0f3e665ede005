// In-page helpers for the browser tests, written against the dashboard's test hooks
// (ARCHITECTURE.md "Dashboard test hooks"): every wait is on DOM state, never on time. Timeouts here
// only turn a hang into a failure that says what was expected and what the page showed.
import type { Page } from "playwright-core";

/** How long a wait on DOM state may take before the test fails with a description of the page. */
export const WAIT_MS = 15_000;

export const card = (stageId: string) => `[data-testid="stage-card"][data-stage-id="${stageId}"]`;
export const output = (stageId: string) => `${card(stageId)} [data-testid="stage-output"]`;
export const toggle = (stageId: string) => `${card(stageId)} [data-testid="stage-output-toggle"]`;
export const viewButton = (stageId: string, view: "rendered" | "raw" | "terminal") =>
  `${card(stageId)} [data-testid="stage-output-view"][data-view="${view}"]`;

/** Waits for `pred` (run in the page with `arg`); on timeout, fails with `describe()`'s account of the page. */
async function waitIn<A>(page: Page, pred: (arg: A) => boolean, arg: A, describe: () => Promise<string>): Promise<void> {
  try {
    // Unboxed<A> is A for the plain values passed here.
    await page.waitForFunction(pred as (arg: unknown) => boolean, arg as unknown, { timeout: WAIT_MS, polling: "raf" });
  } catch (err) {
    if (!(err instanceof Error) || err.name !== "TimeoutError") throw err;
    throw new Error(`timed out after ${WAIT_MS} ms: ${await describe()}`);
  }
}

export async function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.evaluate(([s, n]) => document.querySelector(s as string)?.getAttribute(n as string) ?? null, [selector, name]);
}

export async function waitStageStatus(page: Page, stageId: string, status: string): Promise<void> {
  const sel = card(stageId);
  await waitIn(page, ([s, want]) => document.querySelector(s as string)?.getAttribute("data-status") === want, [sel, status], async () => {
    return `stage ${stageId} data-status=${JSON.stringify(await attr(page, sel, "data-status"))}, expected ${status}`;
  });
}

export async function waitExecutionStatus(page: Page, status: string): Promise<void> {
  const sel = '[data-testid="execution-status"]';
  await waitIn(page, ([s, want]) => document.querySelector(s as string)?.getAttribute("data-status") === want, [sel, status], async () => {
    return `execution-status data-status=${JSON.stringify(await attr(page, sel, "data-status"))}, expected ${status}`;
  });
}

/** textContent of the stage's output element, or null when there is none. */
export function outputText(page: Page, stageId: string): Promise<string | null> {
  return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, output(stageId));
}

export async function waitOutputText(page: Page, stageId: string, text: string): Promise<void> {
  await waitIn(page, ([s, want]) => document.querySelector(s as string)?.textContent === want, [output(stageId), text], async () => {
    const got = await outputText(page, stageId);
    return `stage ${stageId} output is ${got === null ? "missing" : `${got.length} chars ending ${JSON.stringify(got.slice(-80))}`}, expected ${text.length} chars ending ${JSON.stringify(text.slice(-80))}`;
  });
}

/**
 * The stage's output text once it has become `want` and then stayed for a few frames. Panes draw
 * text in animation frames after the state changes, so the status can flip a frame before the last
 * text is drawn: wait for it, then re-read, so text appended late (a duplicate) still fails.
 */
export async function settledOutput(page: Page, stageId: string, want: string): Promise<string | null> {
  await waitOutputText(page, stageId, want);
  await frames(page, 3);
  return outputText(page, stageId);
}

export async function waitOutputIncludes(page: Page, stageId: string, text: string): Promise<void> {
  await waitIn(page, ([s, want]) => document.querySelector(s as string)?.textContent?.includes(want as string) === true, [output(stageId), text], async () => {
    const got = await outputText(page, stageId);
    return `stage ${stageId} output ${got === null ? "is missing" : `ends ${JSON.stringify(got.slice(-80))}`}, expected it to include ${JSON.stringify(text)}`;
  });
}

export async function waitFor(page: Page, selector: string, what = selector): Promise<void> {
  await waitIn(page, (s) => document.querySelector(s) !== null, selector, async () => `no element for ${what}`);
}

export async function waitGone(page: Page, selector: string, what = selector): Promise<void> {
  await waitIn(page, (s) => document.querySelector(s) === null, selector, async () => `${what} is still there`);
}

/** Waits until a selector (CSS or Playwright) is visible, or hidden/absent. */
export async function waitVisible(page: Page, selector: string, state: "visible" | "hidden" = "visible"): Promise<void> {
  try {
    await page.locator(selector).first().waitFor({ state, timeout: WAIT_MS });
  } catch (err) {
    if (!(err instanceof Error) || err.name !== "TimeoutError") throw err;
    throw new Error(`timed out after ${WAIT_MS} ms waiting for ${selector} to be ${state}`);
  }
}

/** Opens the stage's output panel if it is closed (the toggle's aria-expanded is the contract). */
export async function expand(page: Page, stageId: string): Promise<void> {
  await waitFor(page, toggle(stageId), `stage-output-toggle of ${stageId}`);
  if ((await attr(page, toggle(stageId), "aria-expanded")) !== "true") await page.click(toggle(stageId));
  await waitIn(page, (s) => document.querySelector(s)?.getAttribute("aria-expanded") === "true", toggle(stageId), async () => `toggle of ${stageId} did not expand`);
}

export async function selectView(page: Page, stageId: string, view: "rendered" | "raw" | "terminal"): Promise<void> {
  await expand(page, stageId);
  await waitFor(page, viewButton(stageId, view), `stage-output-view[data-view=${view}] of ${stageId}`);
  await page.click(viewButton(stageId, view));
  await waitFor(page, output(stageId), `stage-output of ${stageId} after choosing ${view}`);
}

/**
 * Waits until `text` is on screen inside the stage's output: in the DOM, with a non-empty box that
 * lies within the visible part of every scrolling ancestor (a row drawn outside the viewport, or
 * a blank virtualized panel, does not count).
 */
export async function waitTextVisible(page: Page, stageId: string, text: string): Promise<void> {
  const check = ([s, want]: string[]) => {
    const root = document.querySelector(s as string);
    if (!root) return false;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node: Node | null = null;
    while (walker.nextNode()) {
      if (walker.currentNode.textContent?.includes(want as string)) {
        node = walker.currentNode;
        break;
      }
    }
    if (!node) return false;
    const range = document.createRange();
    range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return false;
    for (let el = node.parentElement; el; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") return false;
      if (!/(auto|scroll|hidden|clip)/.test(style.overflowY)) continue;
      const clip = el.getBoundingClientRect();
      if (box.bottom <= clip.top || box.top >= clip.bottom) return false;
    }
    return box.bottom > 0 && box.top < window.innerHeight;
  };
  await waitIn(page, check, [output(stageId), text], async () => {
    const info = await page.evaluate((s) => {
      const sc = document.querySelector("[data-e2e-scroller]") ?? document.querySelector(s)?.closest("[role=region]");
      return sc ? { scrollTop: sc.scrollTop, scrollHeight: sc.scrollHeight, clientHeight: sc.clientHeight } : null;
    }, output(stageId));
    return `${JSON.stringify(text)} is not visible in the output of ${stageId} (in DOM: ${(await outputText(page, stageId))?.includes(text) ?? false}; scroller ${JSON.stringify(info)})`;
  });
}

/** Counts every node (elements and text) under the first element matching `selector`. */
export function countNodes(page: Page, selector: string): Promise<number> {
  return page.evaluate((s) => {
    const root = document.querySelector(s);
    if (!root) return -1;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ALL);
    let n = 0;
    while (walker.nextNode()) n++;
    return n;
  }, selector);
}

/** The element that scrolls the stage's output: stage-output itself, or the nearest ancestor/descendant that scrolls. */
export async function markScroller(page: Page, stageId: string): Promise<boolean> {
  return page.evaluate((s) => {
    const out = document.querySelector(s);
    if (!out) return false;
    const scrolls = (el: Element) => /(auto|scroll)/.test(getComputedStyle(el).overflowY);
    const candidates: Element[] = [out];
    for (let el = out.parentElement; el && el.getAttribute("data-testid") !== "stage-card"; el = el.parentElement) candidates.push(el);
    candidates.push(...out.querySelectorAll("*"));
    for (const el of document.querySelectorAll("[data-e2e-scroller]")) el.removeAttribute("data-e2e-scroller");
    const found = candidates.find(scrolls);
    found?.setAttribute("data-e2e-scroller", "");
    return found !== undefined;
  }, output(stageId));
}

export interface ScrollState {
  top: number;
  height: number;
  client: number;
  atBottom: boolean;
}

export function scrollState(page: Page): Promise<ScrollState> {
  return page.evaluate(() => {
    const el = document.querySelector("[data-e2e-scroller]");
    if (!el) throw new Error("no scroller marked");
    return { top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight, atBottom: el.scrollHeight - el.scrollTop - el.clientHeight <= 2 };
  });
}

export async function waitAtBottom(page: Page): Promise<void> {
  await waitIn(
    page,
    () => {
      const el = document.querySelector("[data-e2e-scroller]");
      return !!el && el.scrollHeight > el.clientHeight && el.scrollHeight - el.scrollTop - el.clientHeight <= 2;
    },
    null,
    async () => `output not scrolled to the bottom: ${JSON.stringify(await scrollState(page))}`,
  );
}

/** Resolves once scrollTop has stayed the same for `frames` consecutive animation frames (a scroll has settled). */
export function scrollSettled(page: Page, frames = 5): Promise<number> {
  return page.evaluate(
    (n) =>
      new Promise<number>((resolve) => {
        const el = document.querySelector("[data-e2e-scroller]") as Element;
        let last = el.scrollTop;
        let same = 0;
        const tick = () => {
          if (el.scrollTop === last) same++;
          else {
            same = 0;
            last = el.scrollTop;
          }
          if (same >= n) resolve(last);
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }),
    frames,
  );
}

/** Two animation frames: whatever the page does per frame in response to a change has been done. */
export function frames(page: Page, n = 2): Promise<void> {
  return page.evaluate(
    (count) =>
      new Promise<void>((resolve) => {
        let left = count;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
    n,
  );
}
