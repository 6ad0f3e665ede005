import { describe, expect, test } from "bun:test";
import { RowSearch, findAll, stepMatch } from "../../web/lib/output/search.ts";

describe("findAll", () => {
  test("non-overlapping, case-insensitive by default", () => {
    expect(findAll("Error error ERROR err", "error")).toEqual([0, 6, 12]);
    expect(findAll("aaaa", "aa")).toEqual([0, 2]);
    expect(findAll("Error error", "error", { caseSensitive: true })).toEqual([6]);
    expect(findAll("abc", "")).toEqual([]);
    expect(findAll("abc", "x")).toEqual([]);
  });
  test("offsets stay exact when lower-casing would change lengths", () => {
    expect(findAll("İx x", "x")).toEqual([1, 3]);
  });
});

describe("RowSearch", () => {
  test("scans only new rows, and the partial row again as it grows", () => {
    const s = new RowSearch("ab");
    s.update(["ab ab", "x"], "a");
    expect(s.matches).toEqual([{ row: 0, start: 0 }, { row: 0, start: 3 }]);
    s.update(["ab ab", "x"], "ab");
    expect(s.matches).toEqual([{ row: 0, start: 0 }, { row: 0, start: 3 }, { row: 2, start: 0 }]);
    s.update(["ab ab", "x", "ab!", "zzab"], "");
    expect(s.matches).toEqual([
      { row: 0, start: 0 },
      { row: 0, start: 3 },
      { row: 2, start: 0 },
      { row: 3, start: 2 },
    ]);
  });
});

describe("stepMatch", () => {
  test("wraps around both ways; -1 without matches", () => {
    expect(stepMatch(-1, 3, 1)).toBe(0);
    expect(stepMatch(-1, 3, -1)).toBe(2);
    expect(stepMatch(2, 3, 1)).toBe(0);
    expect(stepMatch(0, 3, -1)).toBe(2);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });
});
