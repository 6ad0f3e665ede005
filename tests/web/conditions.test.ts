// Conditions as the pipeline page shows them.
import { expect, test } from "bun:test";
import { describeCondition } from "../../web/src/lib/conditions.ts";

test("leaf tests, combinations and negation read as one line", () => {
  expect(describeCondition({ path: "stages.draft.data.verdict", equals: "ok" })).toBe('stages.draft.data.verdict equals "ok"');
  expect(describeCondition({ path: "input", exists: false })).toBe("input does not exist");
  expect(describeCondition({ path: "stages.a.data.n", gte: 1, lt: 5 })).toBe("stages.a.data.n ≥ 1 and < 5");
  expect(describeCondition({ path: "x", in: ["a", 2] })).toBe('x is one of "a", 2');
  expect(
    describeCondition({ any: [{ path: "a", contains: "yes" }, { not: { all: [{ path: "b", matches: "^x" }, { path: "c", notEquals: null }] } }] }),
  ).toBe('a contains "yes" OR (NOT (b matches /^x/ AND c does not equal null))');
});
