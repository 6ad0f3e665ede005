// Incremental line splitting for the virtualized output views and the "N new lines" counter.
// Each append costs O(chunk): only the new text is scanned, complete lines are pushed onto an array.

/** Display lines longer than this are wrapped into several rows, so one huge line cannot stall layout. */
export const DEFAULT_MAX_LINE_LENGTH = 2000;

export class LineBuffer {
  /** Complete rows (terminators removed). */
  readonly lines: string[] = [];
  #partial = "";
  #maxLineLength: number;

  constructor(maxLineLength = DEFAULT_MAX_LINE_LENGTH) {
    this.#maxLineLength = maxLineLength;
  }

  /** The unterminated last line ("" when the text ends with a newline). A trailing "\r" may still be half of "\r\n". */
  get partial(): string {
    return this.#partial.endsWith("\r") ? this.#partial.slice(0, -1) : this.#partial;
  }

  /** Rows to display: every complete row plus the partial one when it has text. */
  get rowCount(): number {
    return this.lines.length + (this.partial.length > 0 ? 1 : 0);
  }

  /** Row `index` as displayed (the partial row included). */
  row(index: number): string {
    return index < this.lines.length ? (this.lines[index] as string) : this.partial;
  }

  /** Adds text; returns how many rows it completed (newlines and wraps). */
  append(text: string): number {
    const before = this.lines.length;
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      let line = this.#partial + text.slice(start, nl);
      // "\r\n" may be split across chunks: the "\r" then ended the previous partial.
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.#partial = "";
      this.#pushWrapped(line, true);
      start = nl + 1;
    }
    if (start < text.length) {
      this.#partial += text.slice(start);
      if (this.#partial.length > this.#maxLineLength) this.#pushWrapped(this.#partial, false);
    }
    return this.lines.length - before;
  }

  /** Pushes `line` in rows of at most maxLineLength; unless `complete`, the remainder stays partial. */
  #pushWrapped(line: string, complete: boolean): void {
    const max = this.#maxLineLength;
    let rest = line;
    while (rest.length > max) {
      let cut = max;
      // never split a surrogate pair
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
      this.lines.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (complete) this.lines.push(rest);
    else this.#partial = rest;
  }
}

/** Counts line breaks ("\n"; "\r\n" counts once) in a chunk: the "N new lines" badge. */
export function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
