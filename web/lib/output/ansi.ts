// ANSI escape sequences → escaped HTML, via ansi_up (which buffers a sequence split across chunks).
import { AnsiUp } from "ansi_up";

/** Cheap test: does the text contain an escape sequence introducer (ESC or a C1 CSI)? */
export function hasAnsi(text: string): boolean {
  return text.includes("\x1b") || text.includes("\x9b");
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), and two-character escapes.
const ANSI_RE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

/** The text without escape sequences (what the terminal view shows), for search. */
export function stripAnsi(text: string): string {
  return hasAnsi(text) ? text.replace(ANSI_RE, "") : text;
}

function newAnsiUp(): AnsiUp {
  const up = new AnsiUp();
  // Classes for the 16 base colours so the theme (light/dark) picks readable shades; 256/true colours stay inline.
  up.use_classes = true;
  up.escape_html = true;
  return up;
}

/** Stateful converter: colours and bold carry over from one chunk to the next, as in a terminal. */
export class AnsiStream {
  readonly #up = newAnsiUp();

  /** HTML for this chunk; every span it opens is closed, so the result can be appended as is. */
  push(chunk: string): string {
    return this.#up.ansi_to_html(chunk);
  }

  /**
   * HTML for `text` rendered with the current state, without consuming it: the growing last row of the
   * line view is re-rendered each frame while only completed rows advance the state.
   */
  peek(text: string): string {
    // ansi_up keeps its state in plain instance fields; a shallow copy is an independent converter as long
    // as nothing mutates the shared palette objects (ansi_up only reassigns them).
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this.#up) as object) as AnsiUp, this.#up);
    return copy.ansi_to_html(text);
  }
}
