import { describe, expect, test } from "bun:test";
import { TemplateError } from "../../src/core/errors.ts";
import type { RunContext } from "../../src/core/run-context.ts";
import { resolvePath } from "../../src/core/run-context.ts";
import { renderTemplate, templateRefs } from "../../src/core/templates.ts";

const ctx: RunContext = {
  input: "the topic",
  stages: {
    draft: { status: "completed", output: "draft text", data: undefined },
    check: {
      status: "completed",
      output: '{"verdict":"ok"}',
      data: { verdict: "ok", score: 7, items: [{ title: "first" }, { title: "second" }], note: null },
    },
    gone: { status: "skipped", output: "", data: undefined },
    broke: { status: "failed", output: "partial", data: undefined },
    later: { status: "pending", output: "", data: undefined },
  },
};

describe("resolvePath", () => {
  test("reads input, output, status and nested data", () => {
    expect(resolvePath(ctx, "input")).toEqual({ found: true, value: "the topic" });
    expect(resolvePath(ctx, "stages.draft.output")).toEqual({ found: true, value: "draft text" });
    expect(resolvePath(ctx, "stages.draft.status")).toEqual({ found: true, value: "completed" });
    expect(resolvePath(ctx, "stages.check.data.items.0.title")).toEqual({ found: true, value: "first" });
    expect(resolvePath(ctx, "stages.check.data.items[1].title")).toEqual({ found: true, value: "second" });
    expect(resolvePath(ctx, "stages.check.data.note")).toEqual({ found: true, value: null });
  });

  test("misses: unknown keys, out-of-range indexes, undefined data, inherited properties", () => {
    expect(resolvePath(ctx, "stages.check.data.items.2")).toEqual({ found: false, value: undefined });
    expect(resolvePath(ctx, "stages.check.data.items.x")).toEqual({ found: false, value: undefined });
    expect(resolvePath(ctx, "stages.draft.data")).toEqual({ found: false, value: undefined });
    expect(resolvePath(ctx, "stages.nope.output")).toEqual({ found: false, value: undefined });
    expect(resolvePath(ctx, "stages.check.data.constructor")).toEqual({ found: false, value: undefined });
    expect(resolvePath(ctx, "stages.check.data.verdict.length")).toEqual({ found: false, value: undefined });
  });
});

describe("templateRefs", () => {
  test("finds every reference with its kind, tolerating spaces", () => {
    const refs = templateRefs("A {{ input }} B {{stages.draft.output}} {{stages.check.data.items.0.title}} {{stages.check.status}} {{foo}} {{stages.x.outptu}}");
    expect(refs).toEqual([
      { raw: "{{ input }}", expr: "input", index: 2, kind: "input" },
      { raw: "{{stages.draft.output}}", expr: "stages.draft.output", index: 16, kind: "stage-output", stageId: "draft" },
      {
        raw: "{{stages.check.data.items.0.title}}",
        expr: "stages.check.data.items.0.title",
        index: 40,
        kind: "stage-data",
        stageId: "check",
        dataPath: ["items", "0", "title"],
      },
      { raw: "{{stages.check.status}}", expr: "stages.check.status", index: 76, kind: "stage-status", stageId: "check" },
      { raw: "{{foo}}", expr: "foo", index: 100, kind: "unknown" },
      { raw: "{{stages.x.outptu}}", expr: "stages.x.outptu", index: 108, kind: "unknown", stageId: "x" },
    ]);
  });

  test("an escaped \\{{ is not a reference; single braces are not either", () => {
    expect(templateRefs('Use \\{{name}} and {"a": {"b": 1}}')).toEqual([]);
  });
});

describe("renderTemplate", () => {
  test("substitutes text, numbers, objects as pretty JSON, null as nothing", () => {
    const out = renderTemplate(
      "{{input}} | {{ stages.draft.output }} | {{stages.check.data.score}} | {{stages.check.data.items.1}} | [{{stages.check.data.note}}] | {{stages.check.status}}",
      ctx,
      "stages[2].prompt",
    );
    expect(out).toBe('the topic | draft text | 7 | {\n  "title": "second"\n} | [] | completed');
  });

  test("a skipped stage renders empty output and data; a failed one its partial output and empty data", () => {
    expect(renderTemplate("[{{stages.gone.output}}][{{stages.gone.data.x}}][{{stages.gone.status}}]", ctx, "p")).toBe("[][][skipped]");
    expect(renderTemplate("[{{stages.broke.output}}][{{stages.broke.data.x}}]", ctx, "p")).toBe("[partial][]");
  });

  test("an escaped reference renders literally", () => {
    expect(renderTemplate("\\{{input}} {{input}}", ctx, "p")).toBe("{{input}} the topic");
  });

  test("a missing data field names where, the variable and the keys that exist", () => {
    expect(() => renderTemplate("x {{stages.check.data.verdikt}}", ctx, "stages[1].prompt")).toThrow(
      new TemplateError("stages[1].prompt: {{stages.check.data.verdikt}} resolved to nothing: stages.check.data has keys: verdict, score, items, note"),
    );
    expect(() => renderTemplate("{{stages.check.data.items.5.title}}", ctx, "stages[1].system")).toThrow(
      "stages[1].system: {{stages.check.data.items.5.title}} resolved to nothing: stages.check.data.items has an array of 2 (indexes 0-1)",
    );
  });

  test("data of a text stage, unknown stages, unknown variables and unfinished stages throw TemplateError", () => {
    const cases: [string, string][] = [
      ["{{stages.draft.data.x}}", 'p: {{stages.draft.data.x}} has nothing to read: stage "draft" has no parsed data (its output format is text); use {{stages.draft.output}}'],
      ["{{stages.nope.output}}", 'p: {{stages.nope.output}} refers to no stage "nope" (stages: draft, check, gone, broke, later)'],
      ["{{foo}}", "p: unknown variable {{foo}}; use {{input}}, {{stages.<id>.output}}, {{stages.<id>.data.<path>}} or {{stages.<id>.status}}"],
      ["{{stages.later.output}}", 'p: {{stages.later.output}} refers to stage "later", which has not finished (status pending)'],
    ];
    for (const [template, message] of cases) {
      let caught: unknown;
      try {
        renderTemplate(template, ctx, "p");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TemplateError);
      expect((caught as Error).message).toBe(message);
    }
  });
});
