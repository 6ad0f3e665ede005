import { describe, expect, test } from "bun:test";
import { OutputParseError } from "../../src/core/errors.ts";
import { extractJson, parseMarkdown, parseOutput } from "../../src/core/output-parser.ts";

function parseError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OutputParseError);
    return (err as Error).message;
  }
  throw new Error("expected OutputParseError, nothing was thrown");
}

describe("extractJson", () => {
  test("the whole text, with surrounding whitespace", () => {
    expect(extractJson('  {"a": 1, "b": [true, null]}\n')).toEqual({ a: 1, b: [true, null] });
    expect(extractJson("[1, 2]")).toEqual([1, 2]);
  });

  test("a ```json fence is preferred over other fences and prose", () => {
    const text = 'Here you go:\n```js\nconst x = {"no": 1}\n```\n\n```json\n{"verdict": "ok"}\n```\nThanks!';
    expect(extractJson(text)).toEqual({ verdict: "ok" });
  });

  test("any fence when there is no json fence; ~~~ fences too", () => {
    expect(extractJson('Result:\n```\n{"n": 2}\n```')).toEqual({ n: 2 });
    expect(extractJson('Result:\n~~~\n["x"]\n~~~')).toEqual(["x"]);
  });

  test("the first balanced object in prose, with braces and quotes inside strings", () => {
    const text = 'Sure! The answer is {"msg": "use {braces} and \\"quotes\\" freely }", "nested": {"deep": [1, {"k": "]"}]}} — hope that helps {not json}.';
    expect(extractJson(text)).toEqual({ msg: 'use {braces} and "quotes" freely }', nested: { deep: [1, { k: "]" }] } });
  });

  test("prose braces that are not JSON are skipped", () => {
    expect(extractJson('Fill in {name} then: {"ok": true}')).toEqual({ ok: true });
  });

  test("a citation-like [1] loses to a later object, but is used when nothing else is there", () => {
    expect(extractJson('As shown in [1], the result is {"score": 9}.')).toEqual({ score: 9 });
    expect(extractJson("The list is [1, 2, 3] as requested.")).toEqual([1, 2, 3]);
  });

  test("trailing commas are tolerated, in the whole text, fences and prose", () => {
    expect(extractJson('{"a": [1, 2,], "b": {"c": 3,},}')).toEqual({ a: [1, 2], b: { c: 3 } });
    expect(extractJson('```json\n{"a": 1,\n}\n```')).toEqual({ a: 1 });
    expect(extractJson('Answer: {"a": "x,}", "b": 2,} end')).toEqual({ a: "x,}", b: 2 });
  });

  test("a truncated answer is an error, not a partial inner object", () => {
    expect(parseError(() => extractJson('{"items": [{"a": 1}, {"b": '))).toBe(
      'the JSON in the answer is incomplete (cut off at the end?): "{\\"items\\": [{\\"a\\": 1}, {\\"b\\":"',
    );
    expect(parseError(() => extractJson('Here it is:\n```json\n{"verdict": "ok", "fixes": ["one'))).toBe(
      'the JSON in the answer is incomplete (cut off at the end?): "Here it is: ```json {\\"verdict\\": \\"ok\\", \\"fixes\\": [\\"one"',
    );
  });

  test("no JSON at all: the error quotes the start of the answer", () => {
    expect(parseError(() => extractJson("I cannot answer that in JSON, sorry."))).toBe(
      'no JSON found in the answer: "I cannot answer that in JSON, sorry."',
    );
    expect(parseError(() => extractJson("x".repeat(100)))).toBe(`no JSON found in the answer: "${"x".repeat(80)}"…`);
    expect(parseError(() => extractJson("  \n"))).toBe("expected JSON but the answer is empty");
  });

  test("a broken json fence with nothing else reports the fence's parse error", () => {
    expect(parseError(() => extractJson("```json\n{verdict: ok}\n```"))).toStartWith("the json block in the answer is not valid JSON (");
  });
});

describe("parseOutput", () => {
  test("text has no data; json is the parsed value", () => {
    expect(parseOutput('{"a": 1}', undefined)).toBeUndefined();
    expect(parseOutput('{"a": 1}', { format: "text" })).toBeUndefined();
    expect(parseOutput('Here: {"a": 1}', { format: "json" })).toEqual({ a: 1 });
  });

  test("extract adds each value under its name; missing optional fields become null", () => {
    const data = parseOutput('{"result": {"verdict": "ok", "items": [{"title": "T"}]}}', {
      format: "json",
      extract: [
        { name: "verdict", path: "result.verdict", required: true },
        { name: "first", path: "result.items.0.title" },
        { name: "notes", path: "result.notes" },
      ],
    });
    expect(data).toEqual({ result: { verdict: "ok", items: [{ title: "T" }] }, verdict: "ok", first: "T", notes: null });
  });

  test("an array answer is wrapped as {value} so extracted names have somewhere to live", () => {
    const data = parseOutput('[{"title": "A"}, {"title": "B"}]', { format: "json", extract: [{ name: "top", path: "0.title" }] });
    expect(data).toEqual({ value: [{ title: "A" }, { title: "B" }], top: "A" });
  });

  test("a missing required field names the field, its path and what exists", () => {
    expect(
      parseError(() =>
        parseOutput('{"result": {"score": 3, "notes": "x"}}', { format: "json", extract: [{ name: "verdict", path: "result.verdict", required: true }] }),
      ),
    ).toBe('required field "verdict" (path result.verdict) is missing from the answer; result has keys: score, notes');
    expect(
      parseError(() => parseOutput('{"a": null}', { format: "json", extract: [{ name: "a", path: "a", required: true }] })),
    ).toBe('required field "a" (path a) is missing from the answer; a has a null value');
    expect(
      parseError(() => parseOutput('{"b": 1}', { format: "json", extract: [{ name: "v", path: "x.y", required: true }] })),
    ).toBe('required field "v" (path x.y) is missing from the answer; the answer has keys: b');
  });
});

describe("markdown", () => {
  const md = [
    "Intro text, not a section.",
    "# Review",
    "Overall fine.",
    "## Issues",
    "- one",
    "```ts",
    "# not a heading",
    "const a = 1;",
    "```",
    "## Praise ##",
    "Good names.",
    "# Verdict",
    "ok",
    "# Verdict",
    "again",
    "~~~",
    "plain",
    "~~~",
  ].join("\n");

  test("sections run to the next heading of the same or higher level; code blocks keep their language", () => {
    expect(parseMarkdown(md)).toEqual({
      sections: {
        Review: "Overall fine.\n## Issues\n- one\n```ts\n# not a heading\nconst a = 1;\n```\n## Praise ##\nGood names.",
        Issues: "- one\n```ts\n# not a heading\nconst a = 1;\n```",
        Praise: "Good names.",
        Verdict: "ok",
        "Verdict (2)": "again\n~~~\nplain\n~~~",
      },
      codeBlocks: [
        { lang: "ts", code: "# not a heading\nconst a = 1;" },
        { lang: "", code: "plain" },
      ],
    });
  });

  test("parseOutput with format markdown, and extract from it", () => {
    expect(parseOutput("# A\nbody", { format: "markdown" })).toEqual({ sections: { A: "body" }, codeBlocks: [] });
    expect(parseOutput("# A\nbody", { format: "markdown", extract: [{ name: "a", path: "sections.A" }] })).toEqual({
      sections: { A: "body" },
      codeBlocks: [],
      a: "body",
    });
  });
});
