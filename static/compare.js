/* compare.js — the compare page and the history's Compare button. The server renders every metric and
   diff; this script does only what the browser must: follow each running run over its JSON event
   stream (/api/executions/<id>/events) and append its text as text nodes, and ask the server again for
   a stage's metrics and diff when a stage ends, or calmly (≥ 1 s apart, only stages on screen) while
   text streams. Model text becomes a text node or comes as a server-rendered, escaped fragment:
   nothing here builds HTML from it. */
(function () {
  "use strict";

  // --- the history: Compare is for two to four checked runs (which boxes are checked is the browser's)
  function initHistory() {
    const button = document.querySelector("[data-testid=compare-button]");
    if (!button) return;
    const update = () => {
      const n = document.querySelectorAll("[data-testid=compare-checkbox]:checked").length;
      button.disabled = n < 2 || n > 4;
      button.title = n > 4 ? "Compare at most four runs" : "Check two to four runs";
    };
    document.addEventListener("change", (ev) => {
      if (ev.target instanceof Element && ev.target.matches("[data-testid=compare-checkbox]")) update();
    });
    update();
  }

  // --- the compare page -------------------------------------------------------------------------
  const EVENT_TYPES = [
    "execution:started", "stage:started", "stage:output", "stage:retrying", "stage:completed",
    "stage:skipped", "stage:failed", "execution:completed", "execution:cancelled", "execution:failed",
    "execution:interrupted",
  ];
  const FINAL = new Set(["execution:completed", "execution:cancelled", "execution:failed", "execution:interrupted"]);
  const STAGE_END = new Set(["stage:completed", "stage:skipped", "stage:failed"]);
  const CALM_MS = 1000; // a diff re-fetched at most once a second per stage while text streams
  const TRIM_SLACK = 16 * 1024; // trimming waits for this much past the window, so it is rare

  function initCompare() {
    const root = document.getElementById("compare");
    if (!root) return;
    const windowChars = Number(root.dataset.window) || 65536;
    const labels = JSON.parse((document.getElementById("compare-labels") || {}).textContent || "{}");
    const key = (runId, stageId) => runId + "\n" + stageId;

    // One entry per run's stage: its <pre>, the text waiting for the next frame, whether it was voided.
    const outputs = new Map();
    const sections = new Map();
    for (const section of root.querySelectorAll("[data-testid=compare-stage]")) {
      sections.set(section.dataset.stageId, section);
      for (const cell of section.querySelectorAll(".compare-cell:not(.absent)")) {
        const pre = cell.querySelector("[data-testid=compare-output]");
        outputs.set(key(cell.dataset.executionId, cell.dataset.stageId), {
          cell, pre, pending: [], reset: false, length: pre.textContent.length,
        });
      }
    }

    // Text is appended once per animation frame: a burst of chunks of four runs is one DOM write each.
    const dirty = new Set();
    let frame = 0;
    function flush() {
      frame = 0;
      for (const out of dirty) {
        if (out.reset) {
          out.pre.textContent = "";
          out.length = 0;
          out.reset = false;
        }
        const text = out.pending.join("");
        out.pending = [];
        if (text) {
          out.pre.appendChild(document.createTextNode(text));
          out.length += text.length;
        }
        if (out.length > windowChars + TRIM_SLACK) trim(out);
      }
      dirty.clear();
    }
    function trim(out) {
      // The column keeps the latest part only (like the execution page); the full text is a link away.
      const all = out.pre.textContent;
      let cut = all.length - windowChars;
      const code = all.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut += 1; // never split a surrogate pair
      out.pre.textContent = all.slice(cut);
      out.length = all.length - cut;
      const notice = out.cell.querySelector(".compare-cut");
      if (notice) notice.hidden = false;
    }
    function queue(out) {
      dirty.add(out);
      if (!frame) frame = requestAnimationFrame(flush);
    }

    // --- the server's metrics and diff for a stage, at a calm pace ---------------------------------
    const onScreen = new Set();
    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const id = e.target.dataset.stageId;
        if (e.isIntersecting) onScreen.add(id); else onScreen.delete(id);
      }
    });
    sections.forEach((section) => observer.observe(section));
    const lastFetch = new Map();
    const timers = new Map();
    const inflight = new Set();
    const again = new Set();

    function refresh(stageId, now) {
      if (!sections.has(stageId)) return;
      if (!now && !onScreen.has(stageId)) return;
      if (timers.has(stageId)) {
        if (!now) return;
        clearTimeout(timers.get(stageId));
      }
      const since = performance.now() - (lastFetch.get(stageId) || -Infinity);
      const wait = now ? 0 : Math.max(0, CALM_MS - since);
      timers.set(stageId, setTimeout(() => { timers.delete(stageId); fetchParts(stageId); }, wait));
    }

    async function fetchParts(stageId) {
      if (inflight.has(stageId)) { again.add(stageId); return; }
      inflight.add(stageId);
      lastFetch.set(stageId, performance.now());
      try {
        const url = root.dataset.stageUrl + "?ids=" + encodeURIComponent(root.dataset.ids) +
          "&stage=" + encodeURIComponent(stageId);
        const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}});
        if (!response.ok) return;
        const template = document.createElement("template");
        template.innerHTML = await response.text(); // the server's escaped fragment
        const section = sections.get(stageId);
        for (const part of [...template.content.querySelectorAll("[data-part]")]) {
          const cell = section.querySelector('.compare-cell[data-execution-id="' + part.dataset.executionId + '"]');
          const old = cell && cell.querySelector('[data-part="' + part.dataset.part + '"]');
          if (old) old.replaceWith(part);
        }
      } catch (e) {
        // the next stage end or calm tick asks again
      } finally {
        inflight.delete(stageId);
        if (again.delete(stageId)) refresh(stageId, true);
      }
    }

    // --- one EventSource per running run ----------------------------------------------------------
    function follow(column) {
      const runId = column.dataset.executionId;
      let seq = Number(column.dataset.cursor) || 0;
      let source = null;
      let done = false;
      const onEvent = (message) => {
        const event = JSON.parse(message.data);
        // An append is not idempotent: what is at or below the applied seq was shown already.
        if (event.seq <= seq) return;
        seq = event.seq;
        column.dataset.cursor = String(seq);
        const stageId = event.stageId || (event.stage && event.stage.id);
        const out = stageId ? outputs.get(key(runId, stageId)) : null;
        if (event.type === "stage:output" && out) {
          if (event.offset === 0) { out.reset = true; out.pending = []; } // a new attempt's text
          if (event.output) out.pending.push(event.output);
          queue(out);
          refresh(stageId, false);
        } else if ((event.type === "stage:retrying" || event.type === "stage:started") && out) {
          out.reset = true;
          out.pending = [];
          queue(out);
          refresh(stageId, true);
        } else if (STAGE_END.has(event.type)) {
          refresh(stageId, true);
        } else if (FINAL.has(event.type)) {
          done = true;
          source.close();
          const status = event.type === "execution:completed" ? event.result.status : event.type.slice(10);
          column.dataset.status = status;
          const badge = column.querySelector("[data-part=run-status]");
          if (badge) {
            badge.textContent = labels[status] || status;
            badge.className = "badge badge-" + status;
          }
          sections.forEach((_, id) => refresh(id, true));
        }
      };
      const open = () => {
        // The cursor is in the URL: a rebuilt EventSource sends no Last-Event-ID (see README).
        source = new EventSource(column.dataset.events + "?since=" + seq);
        for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
        source.onerror = () => {
          if (!done && source.readyState === EventSource.CLOSED) setTimeout(open, 1000);
        };
      };
      open();
    }
    root.querySelectorAll("[data-testid=compare-column][data-events]").forEach(follow);
  }

  const init = () => { initHistory(); initCompare(); };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
