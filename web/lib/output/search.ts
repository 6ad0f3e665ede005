// Match positions for the per-stage output search. Pure; the components turn positions into highlights.

export interface SearchOptions {
  caseSensitive?: boolean;
}

/** Start offsets of the non-overlapping matches of `query` in `text`, in order. An empty query matches nothing. */
export function findAll(text: string, query: string, options: SearchOptions = {}): number[] {
  if (query.length === 0) return [];
  const hay = options.caseSensitive ? text : text.toLowerCase();
  const needle = options.caseSensitive ? query : query.toLowerCase();
  // toLowerCase can change length for a few characters (e.g. "İ"); then offsets would drift, so search exactly.
  const exact = hay.length === text.length && needle.length === query.length;
  const h = exact ? hay : text;
  const q = exact ? needle : query;
  const out: number[] = [];
  for (let i = h.indexOf(q); i >= 0; i = h.indexOf(q, i + q.length)) out.push(i);
  return out;
}

export interface LineMatch {
  row: number;
  start: number;
}

/**
 * Matches over rows that arrive incrementally (the virtualized view): each call scans only rows not seen
 * before, plus the partial last row again because it can still grow. Matches never span rows.
 */
export class RowSearch {
  readonly matches: LineMatch[] = [];
  #query: string;
  #options: SearchOptions;
  /** rows [0, #complete) are scanned for good */
  #complete = 0;
  /** matches of the partial row, replaced on every update */
  #partialMatches = 0;

  constructor(query: string, options: SearchOptions = {}) {
    this.#query = query;
    this.#options = options;
  }

  /** `rows` complete rows, then the partial row (may be ""). */
  update(rows: readonly string[], partial: string): void {
    this.matches.length -= this.#partialMatches;
    for (let r = this.#complete; r < rows.length; r++) {
      for (const start of findAll(rows[r] as string, this.#query, this.#options)) this.matches.push({ row: r, start });
    }
    this.#complete = rows.length;
    const tail = findAll(partial, this.#query, this.#options);
    for (const start of tail) this.matches.push({ row: rows.length, start });
    this.#partialMatches = tail.length;
  }
}

/** The next (dir 1) or previous (dir -1) match index, wrapping around; -1 when there are none. */
export function stepMatch(current: number, count: number, dir: 1 | -1): number {
  if (count === 0) return -1;
  if (current < 0) return dir === 1 ? 0 : count - 1;
  return (current + dir + count) % count;
}
