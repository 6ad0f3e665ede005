import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { OutputCoalescer, splitUtf8, utf8Length } from "../../src/core/chunker.ts";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

describe("utf8Length", () => {
  test("matches the encoder for ASCII, 2-, 3- and 4-byte characters", () => {
    for (const s of ["", "abc", "é", "€", "😀", "a😀é€\n", "\u{10FFFF}"]) expect(utf8Length(s)).toBe(bytes(s));
  });
  test("counts a lone surrogate as the 3 bytes of U+FFFD", () => {
    expect(utf8Length("\ud83d")).toBe(3);
    expect(utf8Length("a\ude00b")).toBe(5);
  });
});

describe("splitUtf8", () => {
  test("keeps surrogate pairs whole at the boundary", () => {
    // 4095 ASCII bytes then a 4-byte emoji: the emoji cannot fit in the first 4096-byte piece.
    const text = "a".repeat(4095) + "😀" + "b";
    const pieces = splitUtf8(text, 4096);
    expect(pieces).toEqual(["a".repeat(4095), "😀b"]);
  });
  test("splits 3-byte characters on character boundaries", () => {
    const pieces = splitUtf8("€".repeat(3000), 4096);
    expect(pieces.map(bytes)).toEqual([4095, 4095, 810]);
    expect(pieces.join("")).toBe("€".repeat(3000));
  });
  test("empty text is one empty piece", () => {
    expect(splitUtf8("")).toEqual([""]);
  });
  test("property: pieces are ≤ max bytes, never split a pair, and concatenate exactly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 4, max: 64 }), (text, max) => {
        const pieces = splitUtf8(text, max);
        expect(pieces.join("")).toBe(text);
        for (const p of pieces) {
          expect(bytes(p)).toBeLessThanOrEqual(max);
          expect(p.length === 0 || !/^[\udc00-\udfff]/.test(p)).toBe(true);
          expect(/[\ud800-\udbff]$/.test(p)).toBe(false);
        }
      }),
    );
  });
});

interface Chunk {
  text: string;
  offset: number;
  isFinal: boolean;
}

function collect(opts: { intervalMs?: number; flushBytes?: number } = {}) {
  const chunks: Chunk[] = [];
  let notify: (() => void) | undefined;
  const c = new OutputCoalescer({
    ...opts,
    emit: (text, offset, isFinal) => {
      chunks.push({ text, offset, isFinal });
      notify?.();
    },
  });
  const next = (count: number) =>
    new Promise<void>((resolve) => {
      if (chunks.length >= count) return resolve();
      notify = () => {
        if (chunks.length >= count) resolve();
      };
    });
  return { c, chunks, next };
}

describe("OutputCoalescer", () => {
  test("sends the first delta at once and coalesces the rest until the timer", async () => {
    const { c, chunks, next } = collect({ intervalMs: 5 });
    c.push("Hel");
    expect(chunks).toEqual([{ text: "Hel", offset: 0, isFinal: false }]);
    c.push("lo");
    c.push(", world");
    expect(chunks.length).toBe(1);
    await next(2);
    expect(chunks[1]).toEqual({ text: "lo, world", offset: 3, isFinal: false });
    c.finish();
    expect(chunks[2]).toEqual({ text: "", offset: 12, isFinal: true });
  });

  test("flushes early once flushBytes are pending", () => {
    const { c, chunks } = collect({ intervalMs: 60_000, flushBytes: 8 });
    c.push("a");
    c.push("1234");
    expect(chunks.length).toBe(1);
    c.push("5678");
    expect(chunks.map((x) => x.text)).toEqual(["a", "12345678"]);
    c.finish();
  });

  test("pending text goes out in the final chunk, split at 4096 bytes", () => {
    const { c, chunks } = collect({ intervalMs: 60_000, flushBytes: 1 << 30 });
    c.push("x");
    const big = "€".repeat(3000); // 9000 bytes
    c.push(big);
    c.finish();
    expect(chunks.map((x) => [bytes(x.text), x.offset, x.isFinal])).toEqual([
      [1, 0, false],
      [4095, 1, false],
      [4095, 1366, false],
      [810, 2731, true],
    ]);
    expect(chunks.map((x) => x.text).join("")).toBe("x" + big);
  });

  test("holds back a high surrogate until its pair arrives", () => {
    const { c, chunks } = collect({ intervalMs: 60_000, flushBytes: 1 });
    c.push("a\ud83d");
    expect(chunks.map((x) => x.text)).toEqual(["a"]);
    c.push("\ude00b");
    expect(chunks.map((x) => x.text)).toEqual(["a", "😀b"]);
    c.finish();
  });

  test("reset voids the output: the next chunk starts at offset 0 and is sent at once", () => {
    const { c, chunks } = collect({ intervalMs: 60_000 });
    c.push("first try");
    c.push(" pending");
    c.reset();
    c.push("second");
    c.finish();
    expect(chunks).toEqual([
      { text: "first try", offset: 0, isFinal: false },
      { text: "second", offset: 0, isFinal: false },
      { text: "", offset: 6, isFinal: true },
    ]);
  });

  test("property: any split of any text gives ≤4096-byte chunks that concatenate exactly, with exact offsets", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme", maxLength: 3000 }), { maxLength: 12 }),
        fc.boolean(),
        (deltas, splitPairs) => {
          // Optionally cut every delta's surrogate pairs across deltas, as a byte-oriented provider might.
          const text = deltas.join("");
          const parts = splitPairs ? text.split(/(?<=[\ud800-\udbff])/) : deltas;
          const { c, chunks } = collect({ intervalMs: 60_000, flushBytes: 700 });
          for (const d of parts) c.push(d);
          c.finish();
          let offset = 0;
          for (const [i, ch] of chunks.entries()) {
            expect(ch.offset).toBe(offset);
            expect(bytes(ch.text)).toBeLessThanOrEqual(4096);
            expect(/[\ud800-\udbff]$/.test(ch.text)).toBe(false);
            expect(ch.isFinal).toBe(i === chunks.length - 1);
            offset += ch.text.length;
          }
          expect(chunks.map((x) => x.text).join("")).toBe(text);
        },
      ),
      { numRuns: 200 },
    );
  });

  describe("secrets", () => {
    const KEY = "sk-ant-api03-SECRETSECRET";
    const masked = "*".repeat(KEY.length);

    test("a key cut at any point between deltas never goes out, even in halves", () => {
      const text = `before ${KEY} after`;
      for (let cut = 1; cut < text.length; cut++) {
        const chunks: Chunk[] = [];
        const co = new OutputCoalescer({ secrets: [KEY], flushBytes: 1, intervalMs: 60_000, emit: (t, offset, isFinal) => chunks.push({ text: t, offset, isFinal }) });
        co.push(text.slice(0, cut));
        co.push(text.slice(cut));
        co.finish();
        const out = chunks.map((x) => x.text).join("");
        expect(out).toBe(`before ${masked} after`);
        for (const ch of chunks) expect(ch.text.includes("SECRET")).toBe(false);
        expect(chunks.at(-1)!.isFinal).toBe(true);
      }
    });

    test("held text that turns out not to be a key is sent unchanged, and at the end in full", () => {
      const chunks: Chunk[] = [];
      const co = new OutputCoalescer({ secrets: [KEY], flushBytes: 1, intervalMs: 60_000, emit: (t, offset, isFinal) => chunks.push({ text: t, offset, isFinal }) });
      co.push("ask-ant");
      expect(chunks.map((x) => x.text)).toEqual(["a"]);
      co.push("hill");
      expect(chunks.map((x) => x.text)).toEqual(["a", "sk-anthill"]);
      co.push(" sk-an");
      co.finish();
      expect(chunks.map((x) => x.text).join("")).toBe("ask-anthill sk-an");
    });

    test("property: any deltas of any text with keys in it concatenate to the masked text", () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constant(KEY)), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
          const text = parts.join("");
          const points = [...new Set(cuts.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
          const deltas = [0, ...points, text.length].slice(1).map((end, i, arr) => text.slice(i === 0 ? 0 : arr[i - 1], end));
          const chunks: string[] = [];
          const co = new OutputCoalescer({ secrets: [KEY], flushBytes: 4, intervalMs: 60_000, emit: (t) => chunks.push(t) });
          for (const d of deltas) co.push(d);
          co.finish();
          expect(chunks.join("")).toBe(text.replaceAll(KEY, masked));
        }),
        { numRuns: 300 },
      );
    });
  });
});
