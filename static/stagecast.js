/* stagecast.js — the portal's one small script. htmx and its SSE extension do the swapping; this adds
   what a page needs around them: the theme, Ctrl/Cmd+Enter, and on the execution page the cursor and
   de-duplication of the stream, follow-the-tail, the output window, the views, copy, Escape to cancel.
   Model text only ever arrives as escaped HTML text or server-sanitized HTML: nothing here builds HTML
   from it. */
(function () {
  "use strict";

  // --- theme ------------------------------------------------------------------------------------
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

  // --- the run form: Ctrl/Cmd+Enter runs --------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && t instanceof HTMLTextAreaElement && t.form) {
      ev.preventDefault();
      t.form.requestSubmit();
    }
  });

  function toast(text) {
    const box = document.getElementById("sc-toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  // A refused request made by htmx (cancelling a run that already ended) says why.
  document.addEventListener("htmx:responseError", (ev) => {
    const xhr = ev.detail.xhr;
    toast(xhr && xhr.responseText ? xhr.responseText : "The request failed.");
  });

  // --- the execution page -----------------------------------------------------------------------
  const FINAL = new Set(["completed", "skipped", "failed", "cancelled"]);
  // The window kept in the page: past it, only the latest part stays (the rest is a link away).
  const TRIM_SLACK = 16 * 1024;
  const SEAL = 2048;
  const COPY_LIMIT = 512 * 1024; // past this, Download: the page never holds megabytes
  const PACE = { markdown: 1000, terminal: 400 };

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
  // The server's escaping undone (django.utils.html.escape, and CR as &#13;): stage text arrives as
  // escaped HTML text and becomes a text node, never markup.
  const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  const unescapeText = (s) => s.indexOf("&") < 0 ? s : s.replace(/&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g,
    (m, hex, dec, name) => name ? NAMED[name] : String.fromCodePoint(hex ? parseInt(hex, 16) : parseInt(dec, 10)));
  // 12,345 (toLocaleString's first call loads locale data: tens of ms in the middle of a stream)
  const fmt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const duration = (ms) => {
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
  };

  function initExecution(page) {
    const executionId = page.dataset.executionId;
    const windowChars = parseInt(page.dataset.window, 10);
    const streamUrl = (page.getAttribute("sse-connect") || "").split("?")[0];
    let cursor = parseInt(page.dataset.cursor, 10) || 0;
    let ended = page.dataset.active !== "1";
    // Server time minus browser time, so elapsed figures agree with the server's timestamps.
    const skew = parseInt(page.dataset.serverNow, 10) - Date.now();
    const now = () => Date.now() + skew;
    const stages = new Map();

    for (const card of page.querySelectorAll("[data-testid=stage-card]")) {
      const pre = card.querySelector("pre.output");
      const st = {
        card,
        pre,
        scroller: card.querySelector(".scroller"),
        jump: card.querySelector("[data-action=jump]"),
        chars: parseInt(card.dataset.chars, 10) || 0,
        before: parseInt(card.dataset.before, 10) || 0,
        shown: pre.textContent.length,
        live: 0, // characters in the loose text nodes at the end of the <pre>
        following: true,
        newLines: 0,
        view: "raw",
        queued: [], // text received in the current task, applied right after it
        userToggle: false,
        viewTimer: 0,
        viewBusy: false,
        viewDirty: false,
      };
      stages.set(card.dataset.stageId, st);
      st.live = st.shown;
      if (st.live > SEAL) seal(st);
      initStage(st);
    }

    function storageKey(st, what) { return "sc:" + executionId + ":" + st.card.dataset.stageId + ":" + what; }
    function remember(st, what, value) { try { sessionStorage.setItem(storageKey(st, what), value); } catch (e) { /* ignore */ } }
    function recall(st, what) { try { return sessionStorage.getItem(storageKey(st, what)); } catch (e) { return null; } }

    function initStage(st) {
      const { card, scroller } = st;
      // A user's open/closed choice is kept (the page never replaces the <details>, and a reload asks here).
      const choice = recall(st, "open");
      if (choice !== null) setOpen(st, choice === "1");
      // Only a person's toggle is a choice: the parser and this script open panels too.
      const summary = card.querySelector("summary");
      summary.addEventListener("click", () => { st.userToggle = true; });
      card.addEventListener("toggle", () => {
        if (card.open && st.following) scrollToEnd(st);
        if (!st.userToggle) return;
        st.userToggle = false;
        remember(st, "open", card.open ? "1" : "0");
      });
      // Following stops only when a person scrolls up: the browser scrolls too (text trimmed at the
      // top moves the view), and that must not look like someone reading back.
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
        const atEnd = scroller.scrollHeight - top - scroller.clientHeight < 8;
        if (atEnd) { st.following = true; st.newLines = 0; st.jump.hidden = true; }
        else if (up && performance.now() < (st.userScrollUntil || 0)) st.following = false;
      }, { passive: true });
      // Blocks laid out only near the view (content-visibility) take their real height when they come
      // into it, after the scroll that brought them: while following, any change of the text's height
      // goes back to the end (else a jump to the end could stop short of it once the stream is quiet).
      new ResizeObserver(() => { if (st.following) scrollToEnd(st); }).observe(st.pre);
      st.jump.addEventListener("click", () => {
        st.userScrollUntil = 0; // the reader asked for the end: their earlier scrolling is over
        st.following = true;
        scrollToEnd(st);
        st.jump.hidden = true;
        st.newLines = 0;
      });
      for (const button of card.querySelectorAll("[data-view]")) {
        button.addEventListener("click", () => { setView(st, button.dataset.view); remember(st, "view", button.dataset.view); });
      }
      card.querySelector("[data-action=copy]").addEventListener("click", () => copy(st));
      const view = recall(st, "view") || (card.dataset.provider === "cli" ? "terminal" : "raw");
      // After htmx has started (it does on DOMContentLoaded, which comes after this deferred script).
      if (view !== "raw") document.addEventListener("DOMContentLoaded", () => setView(st, view), { once: true });
      if (card.dataset.status === "running" || st.before > 0) scrollToEnd(st);
    }

    function setOpen(st, open) {
      if (st.card.open !== open) st.card.open = open;
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

    function message(st, text) {
      const el = st.card.querySelector(".notice-msg");
      el.textContent = text;
      clearTimeout(st.messageTimer);
      st.messageTimer = setTimeout(() => { el.textContent = ""; }, 5000);
    }

    // --- the stream: cursor, de-duplication, and text applied once per burst ---
    // htmx-ext-sse rebuilds its EventSource without Last-Event-ID after an error that closed it
    // (bigskysoftware/htmx-extensions#184): the cursor lives in the sse-connect URL, which the extension
    // reads again when it reconnects, and any message at or below it is dropped here.
    // A stage's text (escaped by the server: a message without markup) does not go through htmx's
    // swap. Chrome hands every message one network read brought to the page in one task, and a swap
    // per message (parse, insert, a dozen events, layout) made a fast model's burst one long task
    // (hundreds of ms for a megabyte). The text is queued instead, and applied after that task in one
    // task of its own, whose work the window bounds however much arrived.
    page.addEventListener("htmx:sseBeforeMessage", (ev) => {
      const id = parseInt(ev.detail.lastEventId, 10);
      if (id && id <= cursor) { ev.preventDefault(); return; }
      const st = ev.target.matches("pre.output") ? stages.get(ev.target.closest("[data-stage-id]").dataset.stageId) : null;
      if (st) {
        ev.preventDefault();
        if (id) cursor = id;
        const data = ev.detail.data;
        const markup = data.indexOf("<");
        st.queued.push(unescapeText(markup < 0 ? data : data.slice(0, markup)));
        if (!flushQueued) { flushQueued = true; flusher.port2.postMessage("text"); }
        if (markup >= 0) {
          // A stage's first text carries its head (time to first token) after the text: htmx swaps
          // that, out of band, in a task of its own too.
          heads.push([st.pre, data.slice(markup)]);
          flusher.port2.postMessage("heads");
        }
        return;
      }
      // What came before this message is on the page before it.
      flushText();
      swapHeads();
    });
    page.addEventListener("htmx:sseMessage", (ev) => {
      const id = parseInt(ev.detail.lastEventId, 10);
      if (id > cursor) cursor = id;
      keepCursor();
      syncStates(); // heads and notes came with the message, out of band
      if (ev.detail.type === "done") finish();
    });

    let flushQueued = false;
    const heads = []; // [the <pre>, its message's markup]
    const flusher = new MessageChannel(); // a task right after the current one (no 4 ms timer clamp)
    flusher.port1.onmessage = (ev) => { if (ev.data === "heads") swapHeads(); else flushText(); };

    // The head is the server's own rendering (model text in it is escaped) and has nothing for htmx
    // to process: it replaces the old one directly, a fraction of a millisecond where htmx's out-of-band
    // swap (clean-up, processing, a dozen events per element) took 5-40 ms in the middle of a burst.
    function swapHeads() {
      if (!heads.length) return;
      for (const [pre, markup] of heads.splice(0)) {
        const parsed = document.createElement("template");
        parsed.innerHTML = markup;
        for (const el of Array.from(parsed.content.children)) {
          const old = el.id ? document.getElementById(el.id) : null;
          if (old && el.getAttribute("hx-swap-oob") === "true") {
            el.removeAttribute("hx-swap-oob");
            old.replaceWith(el);
          } else {
            htmx.swap(pre, el.outerHTML, { swapStyle: "none" }); // anything else: as htmx would
          }
        }
      }
      syncStates();
    }

    function flushText() {
      flushQueued = false;
      for (const st of stages.values()) {
        if (!st.queued.length) continue;
        const text = st.queued.length === 1 ? st.queued[0] : st.queued.join("");
        st.queued = [];
        addText(st, text);
      }
      keepCursor();
    }

    function keepCursor() {
      const url = streamUrl + "?since=" + cursor;
      if (cursor && page.getAttribute("sse-connect") !== url) page.setAttribute("sse-connect", url);
    }

    page.addEventListener("htmx:sseOpen", () => { document.getElementById("sc-connection").hidden = true; });
    page.addEventListener("htmx:sseError", () => { if (!ended) document.getElementById("sc-connection").hidden = false; });
    page.addEventListener("htmx:sseClose", () => { document.getElementById("sc-connection").hidden = true; });

    function finish() {
      ended = true;
      const hint = document.getElementById("esc-hint");
      if (hint) hint.classList.add("invisible");
      document.getElementById("sc-connection").hidden = true;
      for (const st of stages.values()) if (st.view !== "raw") refreshView(st);
    }

    // Text the stream brought, appended as one text node.
    function addText(st, text) {
      let kept = text;
      if (text.length > windowChars + TRIM_SLACK) {
        // More than the window at once (a burst, or a tab that was in the background): what trimming
        // would drop at once never enters the page, nor does anything the page held before it.
        let cut = text.length - windowChars;
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
      grew(st, text, kept.length);
    }

    function grew(st, text, added) {
      st.chars += codePoints(text);
      st.shown += added;
      st.live += added;
      st.card.dataset.chars = String(st.chars);
      if (st.live > SEAL) seal(st);
      trim(st);
      if (st.following) scrollToEnd(st);
      else {
        st.newLines += countLines(text);
        st.jump.hidden = false;
        st.jump.querySelector(".jump-count").textContent = st.newLines ? "(" + fmt(st.newLines) + " new line" + (st.newLines === 1 ? "" : "s") + ")" : "";
      }
      if (st.view !== "raw") scheduleView(st);
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

    // Up to the window the <pre> holds the exact output; past it, only its latest part, so the page
    // never holds megabytes. Whole blocks go first; trimming waits for some slack, so it is rare.
    // While the view follows the tail, an empty gap takes the height of what was dropped: the text in
    // view keeps its place (no layout shift, though the text above it is gone); it closes as soon as
    // the reader reaches for the panel. A reader scrolled up loses nothing they could be reading until
    // the text is four windows long, and the browser's scroll anchoring keeps their place then.
    function trim(st) {
      if (st.chars <= windowChars) return;
      if (st.shown <= (st.following ? windowChars + TRIM_SLACK : 4 * windowChars)) return;
      const pre = st.pre;
      const gap = st.following ? gapOf(st) : null;
      // Choose first, then measure (one layout), then remove: measuring between removals would lay
      // the text out again each time.
      const drop = [];
      let left = st.shown;
      for (let node = st.gap ? st.gap.nextSibling : pre.firstChild; node && node !== pre.lastChild; node = node.nextSibling) {
        const length = node.textContent.length;
        if (left - length < windowChars - SEAL) break;
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

    // Text that left the page (the window keeps the latest part): counted in the notice above it.
    function dropped(st, removed) {
      st.before += codePoints(removed);
      st.card.dataset.before = String(st.before);
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
      st.card.dataset.chars = "0";
      st.card.querySelector(".notice-before").hidden = true;
      for (const kind of ["markdown", "terminal"]) {
        document.getElementById("view-" + st.card.dataset.stageId + "-" + kind + "-stable").textContent = "";
        const tail = document.getElementById("view-" + st.card.dataset.stageId + "-" + kind + "-tail");
        tail.textContent = "";
        tail.dataset.cursor = "";
      }
    }

    // Heads and notes were swapped in by the server (out of band): align each card with its head.
    function syncStates() {
      for (const st of stages.values()) {
        const head = st.card.querySelector(".stage-head");
        if (!head) continue;
        if (head.dataset.reset && head.dataset.reset !== st.card.dataset.reset) {
          st.card.dataset.reset = head.dataset.reset;
          resetOutput(st);
        }
        const status = head.dataset.status;
        if (status === st.card.dataset.status) continue;
        st.card.dataset.status = status;
        if (status === "running") {
          if (recall(st, "open") === null) setOpen(st, true); // the running stage opens by itself
          st.following = true;
        }
        if (FINAL.has(status) && st.view !== "raw") refreshView(st);
      }
      const head = document.getElementById("exec-head");
      if (head && !["queued", "running"].includes(head.dataset.status)) ended = true;
    }

    // --- views: raw text, rendered Markdown, terminal (ANSI), the last two rendered by the server ---
    function setView(st, view) {
      st.view = view;
      for (const b of st.card.querySelectorAll("[data-view]")) b.setAttribute("aria-pressed", String(b.dataset.view === view));
      st.pre.hidden = view !== "raw";
      for (const kind of ["markdown", "terminal"]) st.card.querySelector(".view-" + kind).hidden = view !== kind;
      if (view === "raw") { if (st.following) scrollToEnd(st); return; }
      refreshView(st);
    }

    // While a stage streams, a rendered view refreshes at a calmer pace than the text arrives.
    function scheduleView(st) {
      if (st.viewTimer || st.viewBusy) { st.viewDirty = true; return; }
      // Slower when the server is slow to answer (a large output takes longer to read back).
      const pace = Math.max(PACE[st.view], 4 * (st.viewCost || 0));
      st.viewTimer = setTimeout(() => { st.viewTimer = 0; refreshView(st); }, pace);
    }

    function refreshView(st) {
      const kind = st.view;
      if (kind === "raw") return;
      if (st.viewBusy) { st.viewDirty = true; return; }
      const id = st.card.dataset.stageId;
      const tail = document.getElementById("view-" + id + "-" + kind + "-tail");
      if (tail.dataset.final === "1") return; // already shows the whole finished output
      st.viewBusy = true;
      st.viewDirty = false;
      const asked = performance.now();
      const url = "/executions/" + executionId + "/stages/" + encodeURIComponent(id) + "/view?format=" + kind + "&cursor=" + encodeURIComponent(tail.dataset.cursor || "");
      htmx.ajax("GET", url, { target: "#view-" + id + "-" + kind + "-stable", swap: "beforeend" }).then(() => {
        st.viewBusy = false;
        st.viewCost = performance.now() - asked;
        if (kind === "terminal") trimView(document.getElementById("view-" + id + "-terminal-stable"));
        if (st.following) scrollToEnd(st);
        if (st.view === kind && (st.viewDirty || (FINAL.has(st.card.dataset.status) && document.getElementById("view-" + id + "-" + kind + "-tail").dataset.final !== "1"))) scheduleView(st);
      }, () => { st.viewBusy = false; });
    }

    // The terminal view keeps only about the window's worth of text too, dropping its oldest lines.
    function trimView(box) {
      let excess = box.textContent.length - windowChars;
      if (excess <= TRIM_SLACK) return;
      while (box.firstChild && excess > 0) {
        excess -= box.firstChild.textContent.length;
        box.removeChild(box.firstChild);
      }
    }

    // --- copy: the text on the page when it is all there, else the full text from the server ---
    async function copy(st) {
      if (!navigator.clipboard) { message(st, "Copy needs https or localhost; use Download."); return; }
      try {
        let text;
        if (st.before === 0) text = st.pre.textContent;
        else if (st.chars <= COPY_LIMIT) {
          const res = await fetch("/executions/" + executionId + "/stages/" + encodeURIComponent(st.card.dataset.stageId) + "/output");
          if (!res.ok) throw new Error("the server answered " + res.status);
          text = await res.text();
        } else { message(st, "Too large to copy (" + fmt(st.chars) + " characters): use Download."); return; }
        await navigator.clipboard.writeText(text);
        message(st, "Copied " + fmt(codePoints(text)) + " characters.");
      } catch (err) {
        message(st, "Copy failed: " + (err && err.message ? err.message : err));
      }
    }

    // --- Escape cancels a running execution (unless a field or a menu has the key) ---
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape" || ev.defaultPrevented || ended) return;
      const t = ev.target;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      const button = document.getElementById("cancel-button");
      if (button && !button.disabled) { ev.preventDefault(); button.click(); }
    });

    // --- figures that tick while a stage runs (elapsed, estimated tokens and speed) ---
    function tick() {
      const exec = document.getElementById("exec-head");
      if (exec && exec.dataset.status === "running" && exec.dataset.started) {
        exec.querySelector("[data-live=elapsed]").textContent = duration(now() - parseInt(exec.dataset.started, 10));
      }
      for (const st of stages.values()) {
        const head = st.card.querySelector(".stage-head");
        if (!head || head.dataset.status !== "running" || !head.dataset.started) continue;
        const started = parseInt(head.dataset.started, 10);
        head.querySelector("[data-live=elapsed]").textContent = duration(Math.max(0, now() - started));
        // About four characters a token: labelled "~" until the model reports the real count.
        const tokens = Math.round(st.chars / 4);
        head.querySelector("[data-live=tokens]").textContent = tokens ? "~" + fmt(tokens) : "—";
        const first = parseInt(head.dataset.first, 10);
        const seconds = first ? (now() - first) / 1000 : 0;
        head.querySelector("[data-live=speed]").textContent = tokens && seconds > 0.5 ? "~" + fmt(Math.round(tokens / seconds)) + " tok/s" : "—";
      }
      if (!ended) setTimeout(tick, 1000);
    }
    if (!ended) tick();
  }

  function init() {
    initTheme();
    const page = document.getElementById("execution");
    if (page) initExecution(page);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
