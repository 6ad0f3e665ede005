// Property tests of the chunker: any text, split into deltas anywhere (even between the halves of a
// surrogate pair), comes out as chunks of at most the byte limit whose concatenation is exactly the
// text, with contiguous offsets, one final chunk last, and no chunk splitting a character.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { OutputCoalescer, splitUtf8, utf8Length } from "../../src/core/chunker.ts";
import { MAX_CHUNK_BYTES } from "../../src/protocol/events.ts";

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** Any text: ASCII, any code point (surrogate pairs included), graphemes, and long runs past 4 KB. */
const anyText = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ unit: "grapheme", maxLength: 20 }),
      fc.tuple(fc.constantFrom("a", "é", "日", "😀", "👩‍👩‍👧", "\n"), fc.integer({ min: 1, max: 3000 })).map(([s, n]) => s.repeat(n)),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));

/** The text and cut points anywhere in it (UTF-16 indices, so a pair may be cut in half). */
const textAndDeltas = anyText.chain((text) =>
  fc.uniqueArray(fc.integer({ min: 0, max: text.length }), { maxLength: 30 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), text.length];
    const deltas: string[] = [];
    for (let i = 1; i < points.length; i++) deltas.push(text.slice(points[i - 1], points[i]));
    return { text, deltas };
  }),
);

test("splitUtf8: pieces within the byte limit, never splitting a pair, concatenating to the text", () => {
  fc.assert(
    fc.property(anyText, fc.integer({ min: 4, max: 5000 }), (text, max) => {
      const pieces = splitUtf8(text, max);
      expect(pieces.join("")).toBe(text);
      for (const p of pieces) {
        expect(utf8Length(p)).toBeLessThanOrEqual(max);
        expect(utf8Length(p)).toBe(utf8(p));
      }
      if (text.isWellFormed()) expect(pieces.every((p) => p.isWellFormed())).toBe(true);
      expect(pieces.length === 1 || pieces.every((p) => p.length > 0)).toBe(true);
    }),
    { numRuns: 300 },
  );
});

test("OutputCoalescer: any delta split gives chunks ≤ 4096 bytes, exact concatenation, contiguous offsets", () => {
  fc.assert(
    fc.property(textAndDeltas, fc.integer({ min: 1, max: 8192 }), ({ text, deltas }, flushBytes) => {
      const chunks: { chunk: string; offset: number; isFinal: boolean }[] = [];
      // A long interval: the property runs synchronously, so only size-triggered flushes and finish() send.
      const c = new OutputCoalescer({ intervalMs: 60_000, flushBytes, emit: (chunk, offset, isFinal) => chunks.push({ chunk, offset, isFinal }) });
      let firstSentAfter: number | undefined;
      deltas.forEach((d, i) => {
        c.push(d);
        if (firstSentAfter === undefined && chunks.length > 0) firstSentAfter = i;
      });
      expect(c.length).toBe(text.length);
      c.finish();
      c.dispose();
      expect(chunks.map((x) => x.chunk).join("")).toBe(text);
      let offset = 0;
      for (const x of chunks) {
        expect(x.offset).toBe(offset);
        offset += x.chunk.length;
        expect(utf8(x.chunk)).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
      }
      expect(chunks.filter((x) => x.isFinal).length).toBe(1);
      expect(chunks.at(-1)?.isFinal).toBe(true);
      if (text.isWellFormed()) expect(chunks.every((x) => x.chunk.isWellFormed())).toBe(true);
      // The first chunk goes out with the first delta that has a whole character to send.
      const firstUseful = deltas.findIndex((_, i) => deltas.slice(0, i + 1).join("").replace(/[\ud800-\udbff]$/, "").length > 0);
      if (firstUseful >= 0) expect(firstSentAfter).toBe(firstUseful);
    }),
    { numRuns: 300 },
  );
});

test("OutputCoalescer: after reset (a retry) offsets start again at 0 and only the new attempt's text is sent", () => {
  fc.assert(
    fc.property(textAndDeltas, textAndDeltas, (first, second) => {
      const chunks: { chunk: string; offset: number }[] = [];
      const c = new OutputCoalescer({ intervalMs: 60_000, emit: (chunk, offset) => chunks.push({ chunk, offset }) });
      for (const d of first.deltas) c.push(d);
      c.reset();
      const from = chunks.length;
      for (const d of second.deltas) c.push(d);
      c.finish();
      c.dispose();
      const after = chunks.slice(from);
      expect(after.map((x) => x.chunk).join("")).toBe(second.text);
      expect(after[0]?.offset).toBe(0);
    }),
    { numRuns: 200 },
  );
});
