/* stagecast.js — the portal's one small script. The server renders every fragment and htmx swaps them
   in (the SSE extension applies each `state` message's out-of-band fragments); this script does only
   what a browser must do itself, each with a line saying why (README.md "What the browser does
   itself" lists them). Model text arrives as a JSON string and becomes a text node: nothing here
   builds HTML from it. */
(function () {
  "use strict";

  // --- theme: the reader's choice lives in their browser ----------------------------------------
  const root = document.documentElement;
  const prefersDark = window.matchMedia("(prefers-color-scheme: dark)");
  const currentTheme = () => root.dataset.theme || (prefersDark.matches ? "dark" : "light");

  function initTheme() {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const label = () => {
      const dark = currentTheme() === "dark";
      button.setAttribute("aria-label", dark ? "Switch to the light theme" : "Switch to the dark theme");
    };
    button.addEventListener("click", () => {
      const next = currentTheme() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem("sc-theme", next); } catch (e) { /* private mode: this page only */ }
      label();
    });
    prefersDark.addEventListener("change", label);
    label();
  }

  // --- keys: Ctrl/Cmd+Enter runs the form (a key press is the browser's) --------------------------
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t instanceof HTMLTextAreaElement && t.form) {
      ev.preventDefault();
      t.form.requestSubmit();
    }
  });

  // A refused htmx request (cancelling a run that already ended) says why: htmx swaps no error answer.
  document.addEventListener("htmx:responseError", (ev) => {
    const xhr = ev.detail.xhr;
    toast(xhr && xhr.responseText ? xhr.responseText : "The request failed.");
  });

  function toast(text) {
    const box = document.getElementById("sc-toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // --- the execution page -----------------------------------------------------------------------
  const ACTIVE = new Set(["queued", "running"]);
  const FINAL = new Set(["completed", "skipped", "failed", "cancelled"]);
  const TRIM_SLACK = 16 * 1024; // trimming waits for this much past the window, so it is rare
  const SEAL = 2048; // finished lines move into blocks of about this many characters
  const COPY_LIMIT = 512 * 1024; // past this, Download: the page never holds megabytes
  const PACE = { markdown: 1000, terminal: 400 }; // ms between refreshes of a rendered view

  // Characters as Python counts them (code points): UTF-16 length less the high surrogates. A regex
  // scans a megabyte in well under a millisecond, where a charCodeAt loop takes several.
  const codePoints = (s) => {
    const pairs = s.match(/[\ud800-\udbff]/g);
    return s.length - (pairs ? pairs.length : 0);
  };
  const countLines = (s) => {
    let n = 0;
    for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
    return n;
  };
  // 12,345 (toLocaleString's first call loads locale data: tens of ms in the middle of a stream)
  const fmt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const duration = (ms) => {
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  };
  const runStatus = () => document.getElementById("exec-head").dataset.status;

  function initExecution(page) {
    const ex = {
      id: page.dataset.executionId,
      windowChars: parseInt(page.dataset.window, 10),
      page,
      streamUrl: (page.getAttribute("sse-connect") || "").split("?")[0],
      cursor: parseInt(page.dataset.cursor, 10) || 0, // the seq of the last event on the page
      // Server time minus browser time, so elapsed figures agree with the server's timestamps.
      skew: parseInt(page.dataset.serverNow, 10) - Date.now(),
      stages: new Map(),
      flushQueued: false,
      flusher: new MessageChannel(), // a task right after the current one (no 4 ms timer clamp)
    };
    for (const card of page.querySelectorAll("[data-testid=stage-card]")) ex.stages.set(card.dataset.stageId, initStage(ex, card));
    ex.flusher.port1.onmessage = () => flushText(ex);
    page.addEventListener("htmx:sseBeforeMessage", (ev) => beforeMessage(ex, ev));
    page.addEventListener("htmx:sseMessage", () => { keepCursor(ex); syncStages(ex); });
    // Whether the connection is up only the browser knows.
    const notice = document.getElementById("sc-connection");
    page.addEventListener("htmx:sseOpen", () => { notice.hidden = true; });
    page.addEventListener("htmx:sseError", () => { if (ACTIVE.has(runStatus())) notice.hidden = false; });
    page.addEventListener("htmx:sseClose", () => { notice.hidden = true; });
    // Escape cancels a running execution (a key press is the browser's), unless a field or a menu has it.
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      if (ev.key !== "Escape" || ev.defaultPrevented || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) return;
      const button = document.getElementById("cancel-button");
      if (button && !button.disabled) { ev.preventDefault(); button.click(); }
    });
    tick(ex);
  }

  // --- a stage panel ---
  function initStage(ex, card) {
    const pre = card.querySelector("pre.output");
    const st = {
      card,
      pre,
      scroller: card.querySelector(".scroller"),
      jump: card.querySelector("[data-action=jump]"),
      chars: parseInt(card.dataset.chars, 10) || 0, // the stage's whole length, in code points
      before: parseInt(card.dataset.before, 10) || 0, // how much of it is no longer on the page
      shown: pre.textContent.length, // UTF-16 units in the <pre>
      live: pre.textContent.length, // of which in the loose text nodes at its end
      queued: [], // text received in the current task, appended right after it
      following: true,
      newLines: 0,
      view: "raw",
      viewTimer: 0,
      viewBusy: false,
      viewDirty: false,
      userToggle: false,
    };
    if (st.live > SEAL) seal(st);
    // A person's open/closed choice is theirs, kept in their browser (the page never replaces the <details>).
    const choice = recall(ex, st, "open");
    if (choice !== null) card.open = choice === "1";
    card.querySelector("summary").addEventListener("click", () => { st.userToggle = true; });
    card.addEventListener("toggle", () => {
      if (card.open && st.following) scrollToEnd(st);
      if (!st.userToggle) return; // the parser and this script open panels too: only a click is a choice
      st.userToggle = false;
      remember(ex, st, "open", card.open ? "1" : "0");
    });
    followScrolling(st);
    for (const button of card.querySelectorAll("[data-view]")) {
      button.addEventListener("click", () => { setView(ex, st, button.dataset.view); remember(ex, st, "view", button.dataset.view); });
    }
    card.querySelector("[data-action=copy]").addEventListener("click", () => copy(ex, st));
    const view = recall(ex, st, "view") || (card.dataset.provider === "cli" ? "terminal" : "raw");
    // After htmx has started (it does on DOMContentLoaded, which comes after this deferred script).
    if (view !== "raw") document.addEventListener("DOMContentLoaded", () => setView(ex, st, view), { once: true });
    if (card.dataset.status === "running" || st.before > 0) scrollToEnd(st);
    return st;
  }

  function storageKey(ex, st, what) { return "sc:" + ex.id + ":" + st.card.dataset.stageId + ":" + what; }
  function remember(ex, st, what, value) { try { sessionStorage.setItem(storageKey(ex, st, what), value); } catch (e) { /* ignore */ } }
  function recall(ex, st, what) { try { return sessionStorage.getItem(storageKey(ex, st, what)); } catch (e) { return null; } }

  // Follow the tail: the scroll position is the reader's, so only the browser can keep it at the end,
  // and tell a person scrolling up (stop following) from the page's own moves.
  function followScrolling(st) {
    const { scroller } = st;
    // Text trimmed at the top moves the view too, and that must not look like someone reading back.
    const intent = () => { st.userScrollUntil = performance.now() + 1000; closeGap(st); };
    for (const type of ["touchstart", "pointerdown", "keydown"]) scroller.addEventListener(type, intent, { passive: true });
    scroller.addEventListener("wheel", (ev) => {
      intent();
      if (ev.deltaY < 0) st.following = false; // at once, so a pending follow does not undo it
    }, { passive: true });
    // Only a move up is reading back: this script's own moves go down, and a chunk landing between
    // one and its scroll event leaves the view just short of the end.
    let lastTop = scroller.scrollTop;
    scroller.addEventListener("scroll", () => {
      const top = scroller.scrollTop;
      const up = top < lastTop;
      lastTop = top;
      if (scroller.scrollHeight - top - scroller.clientHeight < 8) { st.following = true; st.newLines = 0; st.jump.hidden = true; }
      else if (up && performance.now() < (st.userScrollUntil || 0)) st.following = false;
    }, { passive: true });
    // Blocks laid out only near the view (content-visibility) take their real height when they come
    // into it, after the scroll that brought them: while following, any change of the text's height
    // goes back to the end (else a jump to the end could stop short of it once the stream is quiet).
    new ResizeObserver(() => { if (st.following) scrollToEnd(st); }).observe(st.pre);
    st.jump.addEventListener("click", () => {
      st.userScrollUntil = 0; // the reader asked for the end: their earlier scrolling is over
      st.following = true;
      st.newLines = 0;
      st.jump.hidden = true;
      scrollToEnd(st);
    });
  }

  // At most once a frame: reading scrollHeight lays the page out, which a burst must not do per chunk.
  function scrollToEnd(st) {
    if (st.scrollPending) return;
    st.scrollPending = true;
    requestAnimationFrame(() => {
      st.scrollPending = false;
      if (st.following) st.scroller.scrollTop = st.scroller.scrollHeight;
    });
  }

  // --- the stream ---
  // htmx-ext-sse hands every message here before it swaps it. A stage's text is not HTML and never goes
  // through htmx's swap: Chrome hands all the messages of one network read to the page in one task, and
  // a swap per message (parse, insert, a dozen events, layout) made a fast model's burst one long task
  // (hundreds of ms for a megabyte). It is queued and appended right after that task, in one task
  // whose work the window bounds however much arrived. Fragments go on to htmx.
  function beforeMessage(ex, ev) {
    const id = parseInt(ev.detail.lastEventId, 10) || 0;
    const st = ev.target.matches("pre.output") ? ex.stages.get(ev.target.closest("[data-stage-id]").dataset.stageId) : null;
    if (st) {
      ev.preventDefault();
      // Dedupe: text at or below the cursor is on the page already (a stream replayed from an older
      // cursor would otherwise append it twice).
      if (id <= ex.cursor) return;
      ex.cursor = id;
      st.queued.push(JSON.parse(ev.detail.data));
      if (!ex.flushQueued) { ex.flushQueued = true; ex.flusher.port2.postMessage(0); }
      return;
    }
    // A fragment replaces what it updates, so one at the cursor (a stage's head, which follows its
    // first text with the same id) applies again harmlessly; an older one would undo newer state.
    if (id < ex.cursor) { ev.preventDefault(); return; }
    ex.cursor = id;
    flushText(ex); // what came before this message is on the page before it
  }

  function flushText(ex) {
    ex.flushQueued = false;
    for (const st of ex.stages.values()) {
      if (!st.queued.length) continue;
      const text = st.queued.length === 1 ? st.queued[0] : st.queued.join("");
      st.queued = [];
      addText(ex, st, text);
    }
    keepCursor(ex);
  }

  // The cursor in the URL: htmx-ext-sse rebuilds its EventSource without Last-Event-ID after an error
  // that closed it (bigskysoftware/htmx-extensions#184), reading sse-connect again when it does.
  function keepCursor(ex) {
    const url = ex.streamUrl + "?since=" + ex.cursor;
    if (ex.cursor && ex.page.getAttribute("sse-connect") !== url) ex.page.setAttribute("sse-connect", url);
  }

  // The stage panel is a <details> that is never replaced (its open state and its text live in it): its
  // data-status follows the head htmx swapped in, and a retry's head (data-reset) clears the old text.
  function syncStages(ex) {
    for (const st of ex.stages.values()) {
      const head = st.card.querySelector(".stage-head");
      if (head.dataset.reset && head.dataset.reset !== st.card.dataset.reset) {
        st.card.dataset.reset = head.dataset.reset;
        resetOutput(st);
      }
      const status = head.dataset.status;
      if (status === st.card.dataset.status) continue;
      st.card.dataset.status = status;
      if (status === "running") {
        if (recall(ex, st, "open") === null) st.card.open = true; // opens by itself, unless the reader chose
        st.following = true;
      }
      if (FINAL.has(status) && st.view !== "raw") refreshView(ex, st);
    }
  }

  // --- the text and its window ---
  // Up to the window the <pre> holds the exact output; past it only its latest part, so the page never
  // holds megabytes (the rest is a link away). What left the page is known only here.
  function addText(ex, st, text) {
    let kept = text;
    if (text.length > ex.windowChars + TRIM_SLACK) {
      // More than the window at once (a burst, or a tab that was in the background): what trimming
      // would drop at once never enters the page, nor does anything the page held before it.
      let cut = text.length - ex.windowChars;
      const c = text.charCodeAt(cut);
      if (c >= 0xdc00 && c <= 0xdfff) cut++; // never half a surrogate pair
      kept = text.slice(cut);
      let removed = "";
      for (let node = st.gap ? st.gap.nextSibling : st.pre.firstChild; node; ) {
        const next = node.nextSibling;
        removed += node.textContent;
        st.pre.removeChild(node);
        node = next;
      }
      st.shown = st.live = 0;
      dropped(st, removed + text.slice(0, cut));
    }
    st.pre.appendChild(document.createTextNode(kept));
    st.chars += codePoints(text);
    st.shown += kept.length;
    st.live += kept.length;
    if (st.live > SEAL) seal(st);
    trim(ex, st);
    if (st.following) scrollToEnd(st);
    else {
      st.newLines += countLines(text);
      st.jump.hidden = false;
      st.jump.querySelector(".jump-count").textContent = st.newLines ? "(" + fmt(st.newLines) + " new line" + (st.newLines === 1 ? "" : "s") + ")" : "";
    }
    if (st.view !== "raw") scheduleView(ex, st);
  }

  // Finished lines move into their own block, so appending lays out only the last few lines instead
  // of the whole text again (a 64 KB inline block costs tens of ms per chunk), and trimming drops
  // whole blocks. Blocks end at a newline, so the text looks and reads exactly the same.
  function seal(st) {
    const pre = st.pre;
    const loose = [];
    for (let node = pre.lastChild; node && node.nodeType === Node.TEXT_NODE; node = node.previousSibling) loose.unshift(node);
    const text = loose.map((n) => n.data).join("");
    const blocks = [];
    let start = 0;
    for (let nl = text.indexOf("\n", SEAL); nl >= 0; nl = text.indexOf("\n", start + SEAL)) {
      blocks.push(text.slice(start, nl + 1)); // a block ends at the first newline past SEAL characters
      start = nl + 1;
    }
    if (!blocks.length) {
      if (text.length < SEAL * 16) return; // one very long line: wait for its end a while longer
      blocks.push(text);
      start = text.length;
    }
    for (const part of blocks) {
      const block = document.createElement("div");
      block.className = "out-block";
      block.textContent = part;
      pre.insertBefore(block, loose[0]);
    }
    for (const node of loose) pre.removeChild(node);
    if (start < text.length) pre.appendChild(document.createTextNode(text.slice(start)));
    st.live = text.length - start;
  }

  // Whole blocks go first. While the view follows the tail, an empty gap takes the height of what was
  // dropped: the text in view keeps its place (no layout shift, though the text above it is gone); it
  // closes as soon as the reader reaches for the panel. A reader scrolled up loses nothing they could
  // be reading until the text is four windows long, and the browser's scroll anchoring keeps their place.
  function trim(ex, st) {
    if (st.chars <= ex.windowChars) return;
    if (st.shown <= (st.following ? ex.windowChars + TRIM_SLACK : 4 * ex.windowChars)) return;
    const pre = st.pre;
    const gap = st.following ? gapOf(st) : null;
    // Choose first, then measure (one layout), then remove: measuring between removals would lay
    // the text out again each time.
    const drop = [];
    let left = st.shown;
    for (let node = st.gap ? st.gap.nextSibling : pre.firstChild; node && node !== pre.lastChild; node = node.nextSibling) {
      const length = node.textContent.length;
      if (left - length < ex.windowChars - SEAL) break;
      drop.push(node);
      left -= length;
    }
    const height = gap ? drop.reduce((sum, node) => sum + (node.nodeType === Node.ELEMENT_NODE ? node.getBoundingClientRect().height : 0), 0) : 0;
    let removed = "";
    for (const node of drop) {
      removed += node.textContent;
      pre.removeChild(node);
    }
    st.shown = left;
    if (!removed) return;
    if (gap) { st.gapHeight += height; gap.style.height = st.gapHeight + "px"; }
    dropped(st, removed);
  }

  // Text that left the page: counted in the notice above it (server-rendered, hidden until needed).
  function dropped(st, removed) {
    st.before += codePoints(removed);
    const notice = st.card.querySelector(".notice-before");
    notice.querySelector(".before-count").textContent = fmt(st.before) + " characters";
    notice.hidden = false;
  }

  function gapOf(st) {
    if (!st.gap) {
      st.gap = document.createElement("div");
      st.gap.className = "out-gap";
      st.gap.setAttribute("aria-hidden", "true");
      st.gapHeight = 0;
      st.pre.insertBefore(st.gap, st.pre.firstChild);
    }
    return st.gap;
  }

  function closeGap(st) {
    if (!st.gap || !st.gapHeight) return;
    const height = st.gapHeight;
    const top = st.scroller.scrollTop; // read first: the browser clamps it once the gap is gone
    st.gapHeight = 0;
    st.gap.style.height = "0px";
    st.scroller.scrollTop = top - height; // what was in view stays in view
  }

  function resetOutput(st) {
    st.pre.textContent = "";
    st.queued = [];
    st.gap = null;
    st.gapHeight = 0;
    st.chars = st.shown = st.before = st.newLines = st.live = 0;
    st.card.querySelector(".notice-before").hidden = true;
    for (const box of st.card.querySelectorAll(".view [id$=-stable], .view [id$=-tail]")) {
      box.textContent = "";
      if (box.id.endsWith("-tail")) box.dataset.cursor = "";
    }
  }

  // --- views: raw text, rendered Markdown, terminal (ANSI); the server renders the last two, and the
  // browser asks for them at its own pace (it knows which view the reader has on screen) ---
  function setView(ex, st, view) {
    st.view = view;
    for (const b of st.card.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
    st.pre.hidden = view !== "raw";
    for (const kind of ["markdown", "terminal"]) st.card.querySelector(".view-" + kind).hidden = view !== kind;
    if (view === "raw") { if (st.following) scrollToEnd(st); return; }
    refreshView(ex, st);
  }

  // While a stage streams, a rendered view refreshes at a calmer pace than the text arrives.
  function scheduleView(ex, st) {
    if (st.viewTimer || st.viewBusy) { st.viewDirty = true; return; }
    // Slower when the server is slow to answer (a large output takes longer to read back).
    const pace = Math.max(PACE[st.view], 4 * (st.viewCost || 0));
    st.viewTimer = setTimeout(() => { st.viewTimer = 0; refreshView(ex, st); }, pace);
  }

  function refreshView(ex, st) {
    const kind = st.view;
    if (kind === "raw") return;
    if (st.viewBusy) { st.viewDirty = true; return; }
    const prefix = "view-" + st.card.dataset.stageId + "-" + kind;
    const tail = () => document.getElementById(prefix + "-tail"); // htmx replaces it on each refresh
    if (tail().dataset.final === "1") return; // already shows the whole finished output
    st.viewBusy = true;
    st.viewDirty = false;
    const asked = performance.now();
    const url = "/executions/" + ex.id + "/stages/" + encodeURIComponent(st.card.dataset.stageId) + "/view?format=" + kind + "&cursor=" + encodeURIComponent(tail().dataset.cursor || "");
    htmx.ajax("GET", url, { target: "#" + prefix + "-stable", swap: "beforeend" }).then(() => {
      st.viewBusy = false;
      st.viewCost = performance.now() - asked;
      if (kind === "terminal") trimView(ex, document.getElementById(prefix + "-stable"));
      if (st.following) scrollToEnd(st);
      if (st.view === kind && (st.viewDirty || (FINAL.has(st.card.dataset.status) && tail().dataset.final !== "1"))) scheduleView(ex, st);
    }, () => { st.viewBusy = false; });
  }

  // The terminal view keeps only about the window's worth of text too, dropping its oldest lines.
  function trimView(ex, box) {
    let excess = box.textContent.length - ex.windowChars;
    if (excess <= TRIM_SLACK) return;
    while (box.firstChild && excess > 0) {
      excess -= box.firstChild.textContent.length;
      box.removeChild(box.firstChild);
    }
  }

  // --- copy (the clipboard is the browser's): the text on the page when it is all there, else the
  // full text from the server ---
  async function copy(ex, st) {
    const say = (text) => {
      const el = st.card.querySelector(".notice-msg");
      el.textContent = text;
      clearTimeout(st.messageTimer);
      st.messageTimer = setTimeout(() => { el.textContent = ""; }, 5000);
    };
    if (!navigator.clipboard) { say("Copy needs https or localhost; use Download."); return; }
    try {
      let text;
      if (st.before === 0) text = st.pre.textContent;
      else if (st.chars <= COPY_LIMIT) {
        const res = await fetch("/executions/" + ex.id + "/stages/" + encodeURIComponent(st.card.dataset.stageId) + "/output");
        if (!res.ok) throw new Error("the server answered " + res.status);
        text = await res.text();
      } else { say("Too large to copy (" + fmt(st.chars) + " characters): use Download."); return; }
      await navigator.clipboard.writeText(text);
      say("Copied " + fmt(codePoints(text)) + " characters.");
    } catch (err) {
      say("Copy failed: " + (err && err.message ? err.message : err));
    }
  }

  // --- clocks: elapsed time, and the running stage's estimated tokens and speed, tick in the browser;
  // the server sends a fragment when something happens, not every second (nor every chunk) ---
  function tick(ex) {
    const exec = document.getElementById("exec-head");
    if (!ACTIVE.has(exec.dataset.status)) return; // the run has ended: its final figures are the server's
    const now = Date.now() + ex.skew;
    if (exec.dataset.status === "running" && exec.dataset.started) {
      exec.querySelector("[data-live=elapsed]").textContent = duration(now - parseInt(exec.dataset.started, 10));
    }
    for (const st of ex.stages.values()) {
      const head = st.card.querySelector(".stage-head");
      if (head.dataset.status !== "running" || !head.dataset.started) continue;
      head.querySelector("[data-live=elapsed]").textContent = duration(Math.max(0, now - parseInt(head.dataset.started, 10)));
      // About four characters a token: labelled "~" until the model reports the real count.
      const tokens = Math.round(st.chars / 4);
      head.querySelector("[data-live=tokens]").textContent = tokens ? "~" + fmt(tokens) : "—";
      const first = parseInt(head.dataset.first, 10);
      const seconds = first ? (now - first) / 1000 : 0;
      head.querySelector("[data-live=speed]").textContent = tokens && seconds > 0.5 ? "~" + fmt(Math.round(tokens / seconds)) + " tok/s" : "—";
    }
    setTimeout(() => tick(ex), 1000);
  }

  function init() {
    initTheme();
    const page = document.getElementById("execution");
    if (page) initExecution(page);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
