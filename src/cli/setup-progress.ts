// Download progress for logs that are not a terminal (CI): a line at every 10 % step, or every
// few seconds when the size does not move, so a slow or stuck download is visible too.

export const PROGRESS_QUIET_MS = 5000;

export class ProgressReporter {
  readonly #total: number;
  #lastStep = 0;
  #lastLineAt: number | undefined;

  constructor(total: number) {
    this.#total = total;
  }

  /** Returns a line to print for `bytes` seen at time `now` (ms), or null when nothing is due. */
  update(bytes: number, now: number): string | null {
    const step = Math.min(10, Math.floor((bytes / this.#total) * 10));
    this.#lastLineAt ??= now;
    const stepped = step > this.#lastStep;
    const quiet = now - this.#lastLineAt >= PROGRESS_QUIET_MS;
    if (!stepped && !quiet) return null;
    if (stepped) this.#lastStep = step;
    this.#lastLineAt = now;
    const percent = Math.min(100, Math.floor((bytes / this.#total) * 100));
    const mb = (n: number) => (n / 1_000_000).toFixed(1);
    return `  downloaded ${mb(bytes)} of ${mb(this.#total)} MB (${percent}%)`;
  }
}
