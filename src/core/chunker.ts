// Turns a model's deltas into `stage:output` chunks as the wire contract fixes them: the first chunk
// at once, then coalesced every `intervalMs` (or sooner when `flushBytes` are pending), each chunk at
// most MAX_CHUNK_BYTES of UTF-8 and never splitting a character (surrogate pairs stay together).
import { MAX_CHUNK_BYTES } from "../protocol/events.ts";
import { maskSecrets, secretPrefixAtEnd } from "./secrets.ts";

/** UTF-8 byte length of a JS string, without allocating an encoded copy. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3; // a lone surrogate encodes as U+FFFD: 3 bytes
    } else bytes += 3;
  }
  return bytes;
}

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, never inside a surrogate pair. */
export function splitUtf8(text: string, maxBytes = MAX_CHUNK_BYTES): string[] {
  if (maxBytes < 4) throw new RangeError("maxBytes must be at least 4");
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    let units = 1;
    let size: number;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      size = 4;
      units = 2;
    } else size = 3;
    if (bytes + size > maxBytes) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += units;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function endsWithHighSurrogate(text: string): boolean {
  if (text.length === 0) return false;
  const c = text.charCodeAt(text.length - 1);
  return c >= 0xd800 && c <= 0xdbff;
}

export interface CoalescerOptions {
  /** Called once per chunk, in order; `offset` is the stage's output length (UTF-16) before the chunk. */
  emit(chunk: string, offset: number, isFinal: boolean): void;
  intervalMs?: number;
  flushBytes?: number;
  maxChunkBytes?: number;
  /** Values masked out of the output (API keys), also when a delta ends partway through one. */
  secrets?: readonly string[];
}

export const DEFAULT_COALESCE_INTERVAL_MS = 16;
export const DEFAULT_FLUSH_BYTES = 1024;

export class OutputCoalescer {
  readonly #emit: CoalescerOptions["emit"];
  readonly #intervalMs: number;
  readonly #flushBytes: number;
  readonly #maxChunkBytes: number;
  readonly #secrets: readonly string[];
  #pending = "";
  #pendingBytes = 0;
  #offset = 0;
  #sentFirst = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #finished = false;

  constructor(options: CoalescerOptions) {
    this.#emit = options.emit;
    this.#intervalMs = options.intervalMs ?? DEFAULT_COALESCE_INTERVAL_MS;
    this.#flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.#maxChunkBytes = options.maxChunkBytes ?? MAX_CHUNK_BYTES;
    this.#secrets = options.secrets?.filter((s) => s.length > 0) ?? [];
  }

  /** Length (UTF-16 code units) of everything pushed since the last reset, sent or pending. */
  get length(): number {
    return this.#offset + this.#pending.length;
  }

  push(text: string): void {
    if (this.#finished || text.length === 0) return;
    this.#pending += text;
    this.#pendingBytes += utf8Length(text);
    if (!this.#sentFirst || this.#pendingBytes >= this.#flushBytes) this.#flush(false);
    else this.#timer ??= setTimeout(() => this.#flush(false), this.#intervalMs);
  }

  /** Sends what is pending; the last chunk carries isFinal (an empty one when nothing is pending). */
  finish(): void {
    if (this.#finished) return;
    this.#flush(true);
    this.#finished = true;
  }

  /** A retry voids the output so far: drop what is pending and start again at offset 0. */
  reset(): void {
    this.#clearTimer();
    this.#pending = "";
    this.#pendingBytes = 0;
    this.#offset = 0;
    this.#sentFirst = false;
  }

  /** Stops the timer without sending anything (the run is being torn down). */
  dispose(): void {
    this.#clearTimer();
    this.#finished = true;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(isFinal: boolean): void {
    this.#clearTimer();
    let text = this.#pending;
    let held = "";
    if (this.#secrets.length > 0) {
      text = maskSecrets(text, this.#secrets);
      // A delta may end partway through a key: keep that part until the rest decides.
      const k = isFinal ? 0 : secretPrefixAtEnd(text, this.#secrets);
      if (k > 0) {
        held = text.slice(-k);
        text = text.slice(0, -k);
      }
    }
    // A delta may end between the halves of a surrogate pair; keep the high half for the next chunk.
    if (!isFinal && held.length === 0 && endsWithHighSurrogate(text)) {
      held = text.slice(-1);
      text = text.slice(0, -1);
    }
    this.#pending = held;
    this.#pendingBytes = utf8Length(held);
    if (text.length === 0 && !isFinal) return;
    const pieces = text.length === 0 ? [""] : splitUtf8(text, this.#maxChunkBytes);
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      const offset = this.#offset;
      this.#offset += piece.length;
      this.#sentFirst = true;
      this.#emit(piece, offset, isFinal && i === pieces.length - 1);
    }
  }
}
