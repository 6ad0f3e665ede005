import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LineBuffer, countNewlines } from "../../web/lib/output/lines.ts";

describe("LineBuffer", () => {
  test("splits complete lines and keeps the partial one", () => {
    const b = new LineBuffer();
    expect(b.append("one\ntw")).toBe(1);
    expect(b.lines).toEqual(["one"]);
    expect(b.partial).toBe("tw");
    expect(b.rowCount).toBe(2);
    expect(b.append("o\nthree\n")).toBe(2);
    expect(b.lines).toEqual(["one", "two", "three"]);
    expect(b.partial).toBe("");
    expect(b.rowCount).toBe(3);
    expect([b.row(0), b.row(2)]).toEqual(["one", "three"]);
  });

  test("\\r\\n is one break, also when split between chunks", () => {
    const b = new LineBuffer();
    expect(b.append("a\r")).toBe(0);
    expect(b.partial).toBe("a");
    expect(b.append("\nb\r\nc")).toBe(2);
    expect(b.lines).toEqual(["a", "b"]);
    expect(b.partial).toBe("c");
  });

  test("a lone \\r stays in the line", () => {
    const b = new LineBuffer();
    b.append("50%\r100%\n");
    expect(b.lines).toEqual(["50%\r100%"]);
  });

  test("same rows for any chunking of the same text", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "\n", "\r", "\r\n", "é") }), fc.array(fc.nat()), (text, raw) => {
        const cuts = [...new Set(raw.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
        const whole = new LineBuffer();
        whole.append(text);
        const parts = new LineBuffer();
        let completed = 0;
        let prev = 0;
        for (const cut of [...cuts, text.length]) {
          completed += parts.append(text.slice(prev, cut));
          prev = cut;
        }
        expect(parts.lines).toEqual(whole.lines);
        expect(parts.partial).toBe(whole.partial);
        expect(completed).toBe(whole.lines.length);
      }),
      { numRuns: 300 },
    );
  });

  test("wraps rows longer than the limit without splitting a surrogate pair", () => {
    const b = new LineBuffer(4);
    b.append("abcdefghij");
    expect(b.lines).toEqual(["abcd", "efgh"]);
    expect(b.partial).toBe("ij");
    b.append("\nabc😀x\n");
    expect(b.lines).toEqual(["abcd", "efgh", "ij", "abc", "😀x"]);
  });
});

describe("countNewlines", () => {
  test("counts \\n, and \\r\\n once", () => {
    expect(countNewlines("")).toBe(0);
    expect(countNewlines("a\nb\r\nc\n")).toBe(3);
    expect(countNewlines("\r")).toBe(0);
  });
});
