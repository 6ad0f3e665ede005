// The server's only in-memory copy of stage output: at most `budget` UTF-8 bytes per execution
// (ARCHITECTURE budget: 102,400), the newest text kept, the oldest stages trimmed first. The full
// text always lives in the event log; this tail exists so a snapshot of a live run costs no disk read.

import { utf8Length } from "../core/chunker.ts";

export const OUTPUT_TAIL_BUDGET = 102_400;

export interface StageTailView {
  /** the stage's text, or its tail when the execution's held output passed the budget */
  output: string;
  /** full length of the stage's output, in UTF-16 code units (as `offset` in stage:output) */
  outputLength: number;
  outputTruncated: boolean;
}

interface Piece {
  text: string;
  bytes: number;
}

interface StageTail {
  pieces: Piece[];
  length: number;
  truncated: boolean;
}

/** UTF-8 byte length; the engine's chunker already counts it without encoding. */
export const utf8Bytes = utf8Length;

/**
 * Drops at least `drop` bytes from the front of a piece, never splitting a character. Walks only
 * the dropped characters: the piece may be a whole joined stage (after a snapshot), trimmed per chunk.
 */
function dropFront(piece: Piece, drop: number): Piece {
  const { text } = piece;
  let i = 0;
  let dropped = 0;
  while (dropped < drop && i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    // Counted as utf8Length counts: a lone surrogate as U+FFFD, 3 bytes.
    dropped += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    i += pair ? 2 : 1;
  }
  return { text: text.slice(i), bytes: piece.bytes - dropped };
}

export class OutputTail {
  readonly budget: number;
  // Insertion order of a Map is the order stages first produced output: the oldest is trimmed first.
  readonly #stages = new Map<string, StageTail>();
  #held = 0;

  constructor(budget = OUTPUT_TAIL_BUDGET) {
    this.budget = budget;
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** One `stage:output` chunk. Offset 0 starts the stage's text over (a retry voids what came before). */
  append(stageId: string, chunk: string, offset: number): void {
    let stage = offset === 0 ? undefined : this.#stages.get(stageId);
    if (!stage) {
      this.reset(stageId);
      // A tail rebuilt from the log may start mid-stage: whatever came before is not held.
      stage = { pieces: [], length: offset, truncated: offset > 0 };
      this.#stages.set(stageId, stage);
    }
    stage.length = offset + chunk.length;
    if (chunk.length === 0) return;
    const piece = { text: chunk, bytes: utf8Bytes(chunk) };
    stage.pieces.push(piece);
    this.#held += piece.bytes;
    this.#trim();
  }

  /** Forgets a stage's text (stage:retrying). */
  reset(stageId: string): void {
    const stage = this.#stages.get(stageId);
    if (!stage) return;
    for (const p of stage.pieces) this.#held -= p.bytes;
    this.#stages.delete(stageId);
  }

  get(stageId: string): StageTailView | undefined {
    const stage = this.#stages.get(stageId);
    if (!stage) return undefined;
    if (stage.pieces.length > 1) {
      // Join once, so repeated snapshots do not rejoin thousands of chunks.
      const text = stage.pieces.map((p) => p.text).join("");
      stage.pieces = [{ text, bytes: stage.pieces.reduce((n, p) => n + p.bytes, 0) }];
    }
    return { output: stage.pieces[0]?.text ?? "", outputLength: stage.length, outputTruncated: stage.truncated };
  }

  #trim(): void {
    for (const stage of this.#stages.values()) {
      while (this.#held > this.budget && stage.pieces.length > 0) {
        const first = stage.pieces[0] as Piece;
        const excess = this.#held - this.budget;
        stage.truncated = true;
        if (first.bytes <= excess) {
          stage.pieces.shift();
          this.#held -= first.bytes;
        } else {
          const kept = dropFront(first, excess);
          this.#held -= first.bytes - kept.bytes;
          stage.pieces[0] = kept;
        }
      }
      if (this.#held <= this.budget) return;
    }
  }
}

export type NewestFirstEvent = { stageId: string; retry: true } | { stageId: string; output: string; offset: number };

/**
 * Rebuilds a tail from a stage's `stage:output`/`stage:retrying` events read newest first, reading
 * no further than the budget needs. Per stage it stops at the chunk with offset 0 (the start of the
 * attempt that counts) or at a retry (whose earlier attempts are void).
 */
export function tailFromNewestFirst(events: Iterable<NewestFirstEvent>, budget = OUTPUT_TAIL_BUDGET): OutputTail {
  const done = new Set<string>();
  const picked: { stageId: string; output: string; offset: number }[] = [];
  let units = 0;
  for (const e of events) {
    if (done.has(e.stageId)) continue;
    if ("retry" in e) {
      done.add(e.stageId);
      continue;
    }
    picked.push(e);
    // A UTF-16 code unit is at least one UTF-8 byte: `budget` code units hold at least `budget` bytes.
    units += e.output.length;
    if (e.offset === 0) done.add(e.stageId);
    if (units >= budget) break;
  }
  const tail = new OutputTail(budget);
  for (let i = picked.length - 1; i >= 0; i--) {
    const p = picked[i] as (typeof picked)[number];
    tail.append(p.stageId, p.output, p.offset);
  }
  return tail;
}
