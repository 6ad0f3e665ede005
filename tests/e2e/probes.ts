// Measurements taken inside the page, installed before any page script runs: long tasks, layout
// shifts (for CLS) and, per stage, each change of the output's text length with the time it
// reached the DOM — the browser end of the chunk→screen latency.
import type { Page } from "playwright-core";

/**
 * Before any page script: records long tasks and layout shifts (buffered from navigation start),
 * and every change of each stage-output's text length with the time it became visible in the DOM
 * and the start of the next frame (when it is painted).
 */
export async function installProbes(page: Page): Promise<void> {
  await page.addInitScript(() => {
    type Probe = {
      longtasks: { start: number; duration: number }[];
      shifts: { value: number; hadRecentInput: boolean; sources: string[] }[];
      texts: Record<string, { len: number; dom: number; frame: number }[]>;
      gaps: { start: number; gap: number }[];
    };
    const probe: Probe & { resetTexts(): void } = { longtasks: [], shifts: [], texts: {}, gaps: [], resetTexts: () => (probe.texts = {}) };
    (window as unknown as { __probe: Probe }).__probe = probe;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longtasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: "longtask", buffered: true });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as {
        value: number;
        hadRecentInput: boolean;
        sources?: { node?: Node | null }[];
      }[]) {
        const sources = (e.sources ?? []).map((s) => {
          const el = s.node instanceof Element ? s.node : s.node?.parentElement;
          return el ? `${el.tagName.toLowerCase()}${el.getAttribute("data-testid") ? `[${el.getAttribute("data-testid")}]` : ""}.${el.className}` : "?";
        });
        probe.shifts.push({ value: e.value, hadRecentInput: e.hadRecentInput, sources });
      }
    }).observe({ type: "layout-shift", buffered: true });
    // Gaps between animation frames over two frames long: the longtask API reports only tasks over
    // 50 ms, this shows the main thread's stalls below that too (a stall delays the next frame).
    let lastFrame = 0;
    const tick = (t: number) => {
      if (lastFrame && t - lastFrame > 34) probe.gaps.push({ start: lastFrame, gap: t - lastFrame });
      lastFrame = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const lengths = new Map<string, number>();
    const scan = () => {
      const now = performance.timeOrigin + performance.now();
      for (const el of document.querySelectorAll('[data-testid="stage-card"]')) {
        const id = el.getAttribute("data-stage-id") ?? "?";
        const len = el.querySelector('[data-testid="stage-output"]')?.textContent?.length ?? 0;
        if (len === (lengths.get(id) ?? 0)) continue;
        lengths.set(id, len);
        const rec = { len, dom: now, frame: 0 };
        (probe.texts[id] ??= []).push(rec);
        requestAnimationFrame((t) => (rec.frame = performance.timeOrigin + t));
      }
    };
    new MutationObserver(scan).observe(document, { subtree: true, childList: true, characterData: true });
  });
}

export interface ProbeResult {
  /** start in ms since the page's time origin (performance.now()) */
  longtasks: { start: number; duration: number }[];
  shifts: { value: number; hadRecentInput: boolean; sources: string[] }[];
  texts: Record<string, { len: number; dom: number; frame: number }[]>;
  /** gaps over 34 ms between consecutive animation frames; start in ms since the time origin */
  gaps: { start: number; gap: number }[];
}

/** Forgets the text-length records so far (e.g. those of the view shown before switching to raw). */
export function resetTextProbe(page: Page): Promise<void> {
  return page.evaluate(() => (window as unknown as { __probe: { resetTexts(): void } }).__probe.resetTexts());
}

export function readProbes(page: Page): Promise<ProbeResult> {
  return page.evaluate(() => (window as unknown as { __probe: ProbeResult }).__probe);
}

/** Cumulative layout shift: the sum of shifts not caused by recent input. */
export function cls(p: ProbeResult): number {
  return p.shifts.filter((s) => !s.hadRecentInput).reduce((a, s) => a + s.value, 0);
}

export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
