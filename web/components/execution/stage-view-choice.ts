// Which view a stage's output opens in, and an incremental "has ANSI escapes" check.
import { hasAnsi } from "../../lib/output/ansi.ts";
import type { OutputView } from "./output-types.ts";

/**
 * Agent CLIs and anything that printed escape codes → terminal (colours kept). API and local models
 * write Markdown, so → rendered. Raw is always one click away and is the exact text.
 */
export function defaultView(provider: string | undefined, ansiSeen: boolean): OutputView {
  return provider === "cli" || ansiSeen ? "terminal" : "rendered";
}

/** Remembers whether escapes were seen, scanning only text not scanned before (O(chunk) per frame). */
export class AnsiDetector {
  #scanned = 0;
  #seen = false;

  seen(text: string): boolean {
    if (this.#seen) return true;
    // a shorter text is a restart (retry): scan it from the start
    if (text.length < this.#scanned) this.#scanned = 0;
    this.#seen = hasAnsi(text.slice(this.#scanned));
    this.#scanned = text.length;
    return this.#seen;
  }
}
