// Harness entry: records long tasks and layout shifts from the start, then mounts the streaming page.
import { mount } from "svelte";
import "../src/styles/app.css";
import Harness from "./Harness.svelte";

declare global {
  interface Window {
    __longtasks: { start: number; duration: number }[];
    __cls: number;
    __shifts: { value: number; sources: string[] }[];
    __harness: { done: boolean; frames: number; streamStart: number };
  }
}

window.__longtasks = [];
window.__cls = 0;
window.__shifts = [];
window.__harness = { done: false, frames: 0, streamStart: Infinity };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration });
}).observe({ type: "longtask", buffered: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean; sources?: { node?: Node }[] })[]) {
    if (e.hadRecentInput) continue;
    window.__cls += e.value;
    window.__shifts.push({
      value: e.value,
      sources: (e.sources ?? []).map((s) => (s.node instanceof Element ? `${s.node.tagName}.${s.node.className}` : String(s.node?.nodeName))),
    });
  }
}).observe({ type: "layout-shift", buffered: true });

// Long animation frames with script attribution: what a slow frame spent its time on.
(window as unknown as { __loaf: unknown[] }).__loaf = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { blockingDuration: number; scripts: { invoker: string; duration: number; sourceFunctionName: string }[] })[]) {
      if (e.duration < 50) continue;
      (window as unknown as { __loaf: unknown[] }).__loaf.push({
        start: Math.round(e.startTime),
        duration: Math.round(e.duration),
        blocking: Math.round(e.blockingDuration),
        scripts: e.scripts.map((s) => `${s.invoker}:${s.sourceFunctionName}:${Math.round(s.duration)}`),
      });
    }
  }).observe({ type: "long-animation-frame", buffered: true });
} catch {
  // not supported: long tasks only
}

mount(Harness, { target: document.getElementById("app")! });
