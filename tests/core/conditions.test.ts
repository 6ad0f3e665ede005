import { describe, expect, test } from "bun:test";
import { conditionPaths, describeCondition, evaluateCondition } from "../../src/core/conditions.ts";
import type { RunContext } from "../../src/core/run-context.ts";
import type { Condition } from "../../src/protocol/pipeline.ts";

const ctx: RunContext = {
  input: "Please review",
  stages: {
    check: {
      status: "completed",
      output: "Verdict: OK\n",
      data: { verdict: "ok", score: 7, scoreText: "8", tags: ["a", "b"], empty: null, flag: false },
    },
    gone: { status: "skipped", output: "", data: undefined },
  },
};
const ev = (c: Condition) => evaluateCondition(c, ctx);
const P = "stages.check.data";

describe("evaluateCondition: leaf operators", () => {
  test("equals / notEquals / in, strict", () => {
    expect(ev({ path: `${P}.verdict`, equals: "ok" })).toBe(true);
    expect(ev({ path: `${P}.verdict`, equals: "OK" })).toBe(false);
    expect(ev({ path: `${P}.score`, equals: "7" })).toBe(false);
    expect(ev({ path: `${P}.flag`, equals: false })).toBe(true);
    expect(ev({ path: `${P}.verdict`, notEquals: "ok" })).toBe(false);
    expect(ev({ path: `${P}.verdict`, notEquals: "bad" })).toBe(true);
    expect(ev({ path: `${P}.score`, in: [1, 7] })).toBe(true);
    expect(ev({ path: `${P}.score`, in: ["7"] })).toBe(false);
  });

  test("contains on strings and arrays; matches as a regex", () => {
    expect(ev({ path: "stages.check.output", contains: "OK" })).toBe(true);
    expect(ev({ path: "stages.check.output", contains: "ok" })).toBe(false);
    expect(ev({ path: `${P}.tags`, contains: "b" })).toBe(true);
    expect(ev({ path: `${P}.tags`, contains: "c" })).toBe(false);
    expect(ev({ path: `${P}.score`, contains: "7" })).toBe(false);
    expect(ev({ path: "stages.check.output", matches: "^verdict:\\s*ok$" })).toBe(false);
    expect(ev({ path: "stages.check.output", matches: "x|Verdict:\\s*OK" })).toBe(true);
    expect(ev({ path: "stages.check.output", matches: "(?i)^verdict:\\s*ok$" })).toBe(false);
    expect(ev({ path: "stages.check.output", matches: "(?i)^verdict:\\s*ok\\s*$" })).toBe(true);
    expect(ev({ path: `${P}.score`, matches: "^\\d$" })).toBe(true);
    expect(ev({ path: `${P}.tags`, matches: "a" })).toBe(false);
  });

  test("gt/gte/lt/lte on numbers and numeric strings only", () => {
    expect(ev({ path: `${P}.score`, gt: 6 })).toBe(true);
    expect(ev({ path: `${P}.score`, gt: 7 })).toBe(false);
    expect(ev({ path: `${P}.score`, gte: 7 })).toBe(true);
    expect(ev({ path: `${P}.score`, lt: 7 })).toBe(false);
    expect(ev({ path: `${P}.score`, lte: 7 })).toBe(true);
    expect(ev({ path: `${P}.scoreText`, gt: 7.5 })).toBe(true);
    expect(ev({ path: `${P}.verdict`, lt: 100 })).toBe(false);
  });

  test("several operators on one leaf must all hold", () => {
    expect(ev({ path: `${P}.score`, gte: 5, lte: 8 })).toBe(true);
    expect(ev({ path: `${P}.score`, gte: 5, lt: 7 })).toBe(false);
    expect(ev({ path: `${P}.verdict`, exists: true, equals: "ok", notEquals: "bad" })).toBe(true);
  });

  test("a missing (or null) value equals nothing, and exists:false holds for it", () => {
    for (const path of [`${P}.nope`, `${P}.empty`, "stages.gone.data.verdict", "stages.nope.output"]) {
      expect([path, ev({ path, equals: "ok" })]).toEqual([path, false]);
      expect([path, ev({ path, equals: null })]).toEqual([path, false]);
      expect([path, ev({ path, notEquals: "ok" })]).toEqual([path, true]);
      expect([path, ev({ path, in: ["ok", null] })]).toEqual([path, false]);
      expect([path, ev({ path, contains: "" })]).toEqual([path, false]);
      expect([path, ev({ path, matches: ".*" })]).toEqual([path, false]);
      expect([path, ev({ path, gt: -1 })]).toEqual([path, false]);
      expect([path, ev({ path, exists: true })]).toEqual([path, false]);
      expect([path, ev({ path, exists: false })]).toEqual([path, true]);
    }
    expect(ev({ path: `${P}.flag`, exists: true })).toBe(true);
    expect(ev({ path: "stages.gone.output", exists: true })).toBe(true);
  });
});

describe("evaluateCondition: all / any / not", () => {
  test("combinators", () => {
    const ok: Condition = { path: `${P}.verdict`, equals: "ok" };
    const no: Condition = { path: `${P}.verdict`, equals: "no" };
    expect(ev({ all: [ok, ok] })).toBe(true);
    expect(ev({ all: [ok, no] })).toBe(false);
    expect(ev({ any: [no, ok] })).toBe(true);
    expect(ev({ any: [no, no] })).toBe(false);
    expect(ev({ not: no })).toBe(true);
    expect(ev({ not: { any: [ok, no] } })).toBe(false);
  });
});

describe("conditionPaths", () => {
  test("every path in order of appearance", () => {
    expect(
      conditionPaths({ all: [{ path: "input", contains: "x" }, { not: { path: "stages.a.output", exists: true } }, { any: [{ path: "stages.b.data.v", equals: 1 }] }] }),
    ).toEqual(["input", "stages.a.output", "stages.b.data.v"]);
  });
});

describe("describeCondition", () => {
  test("human text for skip reasons", () => {
    expect(describeCondition({ path: "stages.draft.data.verdict", equals: "ok" })).toBe('stages.draft.data.verdict equals "ok"');
    expect(describeCondition({ path: "stages.x.data.n", gte: 1, lt: 5 })).toBe("stages.x.data.n >= 1 and < 5");
    expect(describeCondition({ path: "stages.x.data.issues.0", exists: false })).toBe("stages.x.data.issues.0 does not exist");
    expect(describeCondition({ path: "input", in: ["a", 1, null], notEquals: "b" })).toBe('input does not equal "b" and is one of "a", 1, null');
    expect(describeCondition({ path: "stages.x.output", matches: "^ok", contains: "fine" })).toBe('stages.x.output contains "fine" and matches /^ok/');
    expect(
      describeCondition({ any: [{ path: "a", equals: 1 }, { all: [{ path: "b", exists: true }, { not: { path: "c", gt: 2 } }] }] }),
    ).toBe("a equals 1 or (b exists and not c > 2)");
  });
});
