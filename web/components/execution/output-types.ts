// Shared types and limits of the output panes.
export type OutputView = "rendered" | "raw" | "terminal";

/** Up to this many characters the raw/terminal views are one text container (exact textContent, the test contract). */
export const SMALL_LIMIT = 64 * 1024;
/** Above this the Markdown view would re-lex too much; the panel says so and shows raw lines instead. */
export const RENDER_LIMIT = 128 * 1024;
/** Characters taken into the DOM per animation frame, so catching up on a large text never blocks a frame long. */
export const FRAME_BUDGET = 128 * 1024;

/** An unfinished Markdown block longer than this is re-rendered only every few frames (its re-lex is O(tail)). */
export const BIG_TAIL = 16 * 1024;

/** What a pane reports after a frame's DOM work. */
export interface PaneCallbacks {
  /** text was appended: `newLines` line breaks (for the "N new lines" badge) */
  onappend: (newLines: number) => void;
  /** the number of search matches changed */
  onmatches: (count: number) => void;
}
