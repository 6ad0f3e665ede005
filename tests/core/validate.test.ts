import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { BUILTIN_PIPELINES_DIR } from "../../src/core/loader.ts";
import { initTemplate } from "../../src/core/init-template.ts";
import { formatIssue, validatePipeline } from "../../src/core/validate.ts";

type Obj = Record<string, unknown>;

/** A valid pipeline; each test breaks one thing. */
function base(): Obj {
  return {
    id: "ok-pipe",
    name: "OK",
    defaults: { model: { provider: "local", maxTokens: 64 } },
    stages: [
      { id: "draft", prompt: "Write about {{input}}" },
      { id: "check", prompt: "Check {{stages.draft.output}}", output: { format: "json", extract: [{ name: "verdict", path: "verdict" }] } },
      { id: "final", prompt: "Fix {{stages.draft.output}} per {{ stages.check.data.verdict }} ({{stages.check.status}})", skipIf: { path: "stages.check.data.verdict", equals: "ok" } },
    ],
  };
}

function issues(raw: unknown): string[] {
  const r = validatePipeline(raw);
  if (r.ok) return [];
  return r.issues.map(formatIssue);
}

function withStage(i: number, patch: Obj): Obj {
  const p = base();
  const stages = p.stages as Obj[];
  stages[i] = { ...stages[i], ...patch };
  return p;
}

describe("validatePipeline: valid files", () => {
  test("the base pipeline is valid and comes back parsed (format default applied)", () => {
    const r = validatePipeline(base());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.warnings).toEqual([]);
      expect(r.config.stages[1]!.output).toEqual({ format: "json", extract: [{ name: "verdict", path: "verdict" }] });
    }
  });

  test("every built-in pipeline validates clean, with no warnings", () => {
    const files = readdirSync(BUILTIN_PIPELINES_DIR).filter((f) => f.endsWith(".yaml")).sort();
    expect(files).toEqual(["code-review.yaml", "demo.yaml", "prompt-optimizer.yaml", "summarize-critique.yaml"]);
    for (const f of files) {
      const raw = parse(readFileSync(join(BUILTIN_PIPELINES_DIR, f), "utf8")) as Obj;
      const r = validatePipeline(raw);
      expect([f, r.ok ? "ok" : r.issues]).toEqual([f, "ok"]);
      if (r.ok) {
        expect([f, r.warnings]).toEqual([f, []]);
        expect(r.config.id).toBe(f.replace(/\.yaml$/, ""));
        expect(typeof r.config.description).toBe("string");
        expect(r.config.defaults?.model?.provider).toBe("local");
      }
    }
  });

  test("the init template validates clean", () => {
    const r = validatePipeline(parse(initTemplate("my-new-pipe")));
    expect(r.ok && r.warnings).toEqual([]);
  });
});

describe("validatePipeline: schema problems, translated", () => {
  test("not an object", () => {
    expect(issues(null)).toEqual(["expected a pipeline object (id, name, stages); got null"]);
    expect(issues([1])).toEqual(["expected a pipeline object (id, name, stages); got an array"]);
  });

  test("unknown provider, tool and format list the choices", () => {
    expect(issues(withStage(0, { model: { provider: "foo" } }))).toEqual([
      'stages[0].model.provider: unknown provider "foo"; expected one of anthropic, openai, openai-compatible, google, local, cli',
    ]);
    expect(issues(withStage(0, { model: { provider: "cli", tool: "claud" } }))).toEqual([
      'stages[0].model.tool: unknown tool "claud"; expected one of claude, opencode, gemini, command (did you mean "claude"?)',
    ]);
    expect(issues(withStage(0, { output: { format: "yaml" } }))).toEqual([
      'stages[0].output.format: unknown output format "yaml"; expected one of text, json, markdown',
    ]);
  });

  test("unknown fields, with a suggestion when close", () => {
    const p = withStage(1, { promt: "x" });
    (p as Obj).descripton = "d";
    expect(issues(p)).toEqual(['unknown field "descripton"; did you mean "description"?', 'stages[1]: unknown field "promt"; did you mean "prompt"?']);
    expect(issues(withStage(0, { model: { provider: "local", zzz: 1 } }))).toEqual(['stages[0].model: unknown field "zzz"']);
    expect(issues(withStage(2, { skipIf: { path: "stages.check.data.verdict", equal: "ok" } }))).toEqual([
      'stages[2].skipIf: unknown field "equal"; did you mean "equals"?',
      "stages[2].skipIf: a condition needs a test: one of equals, notEquals, in, contains, matches, exists, gt, gte, lt, lte",
    ]);
  });

  test("missing and mistyped fields, ranges, formats", () => {
    const p = base();
    delete p.name;
    (p.stages as Obj[])[0] = { id: "Draft One", retries: 1.5, timeoutMs: 0, model: { temperature: 3, baseURL: "localhost" } };
    expect(issues(p)).toEqual([
      "name: missing; expected a string",
      'stages[0].id: "Draft One" must match [a-z0-9-]+ (lowercase letters, digits and dashes)',
      "stages[0].model.temperature: must be at most 2; got number 3",
      'stages[0].model.baseURL: "localhost" is not a valid URL',
      "stages[0].prompt: missing; expected a string",
      "stages[0].retries: expected a whole number; got number 1.5",
      "stages[0].timeoutMs: must be greater than 0; got number 0",
      // the rename leaves later references dangling, and that is reported too
      'stages[1].prompt: unknown variable {{stages.draft.output}} (no stage "draft"; earlier stages: Draft One)',
      'stages[2].prompt: unknown variable {{stages.draft.output}} (no stage "draft"; earlier stages: Draft One, check)',
    ]);
    expect(issues({ id: "x", name: "X", stages: [] })).toEqual(["stages: a pipeline needs at least one stage"]);
    expect(issues(withStage(2, { skipIf: { path: "stages.check.data.verdict", equals: { a: 1 } } }))).toEqual([
      "stages[2].skipIf.equals: expected a string, a number, a boolean, null; got an object",
    ]);
    expect(issues(withStage(2, { skipIf: "verdict == ok" }))).toEqual([
      'stages[2].skipIf: expected a condition ({path, equals…}, {all: […]}, {any: […]} or {not: …}); got string "verdict == ok"',
    ]);
  });
});

describe("validatePipeline: references", () => {
  test("the contract example: an unknown stage in a template", () => {
    expect(issues(withStage(2, { prompt: "{{stages.nope.output}}" }))).toEqual([
      'stages[2].prompt: unknown variable {{stages.nope.output}} (no stage "nope"; earlier stages: draft, check)',
    ]);
  });

  test("later stages, the stage itself, unknown variables, typos", () => {
    expect(issues(withStage(0, { prompt: "{{stages.final.output}} {{stages.draft.output}} {{foo}} {{stages.check.outptu}} {{stages.chek.output}}" }))).toEqual([
      'stages[0].prompt: {{stages.final.output}} refers to a later stage, "final" (stages[2]); a stage can only use earlier stages',
      "stages[0].prompt: {{stages.draft.output}} refers to this stage itself; a stage can only use earlier stages",
      "stages[0].prompt: unknown variable {{foo}}; use {{input}}, {{stages.<id>.output}}, {{stages.<id>.data.<path>}} or {{stages.<id>.status}}",
      "stages[0].prompt: unknown variable {{stages.check.outptu}}; did you mean {{stages.check.output}}?",
      'stages[0].prompt: unknown variable {{stages.chek.output}} (no stage "chek"; there are no earlier stages); did you mean "check"?',
    ]);
  });

  test("data of a text stage suggests .output; markdown data has sections and codeBlocks", () => {
    expect(issues(withStage(2, { system: "{{stages.draft.data.summary}}" }))).toEqual([
      'stages[2].system: {{stages.draft.data.summary}}: stage "draft" has output format text, so it has no data; use {{stages.draft.output}}, or set its output.format to json or markdown',
    ]);
    const p = withStage(0, { output: { format: "markdown" } });
    (p.stages as Obj[])[1]!.prompt = "{{stages.draft.data.sections.Intro}} {{stages.draft.data.intro}}";
    expect(issues(p)).toEqual(['stages[1].prompt: {{stages.draft.data.intro}}: markdown data has "sections" and "codeBlocks", not "intro"']);
  });

  test("defaults.system may only use {{input}}", () => {
    const p = base();
    (p.defaults as Obj).system = "Topic {{input}}; {{stages.draft.output}}";
    expect(issues(p)).toEqual(["defaults.system: {{stages.draft.output}}: defaults apply to every stage, so they can only use {{input}}"]);
  });

  test("skipIf/runIf see earlier stages only; earlyExit may see the stage itself", () => {
    expect(
      issues(
        withStage(1, {
          skipIf: { path: "stages.check.output", contains: "x" },
          runIf: { all: [{ path: "stages.final.status", equals: "completed" }, { not: { path: "stages.gone.data.x", exists: true } }] },
          earlyExit: { any: [{ path: "stages.check.data.verdict", equals: "stop" }, { path: "verdict", equals: 1 }] },
        }),
      ),
    ).toEqual([
      'stages[1].skipIf.path: "stages.check.output" refers to this stage itself; a stage can only use earlier stages',
      'stages[1].runIf.all[0].path: "stages.final.status" refers to a later stage, "final" (stages[2]); a stage can only use earlier stages',
      'stages[1].runIf.all[1].not.path: unknown path "stages.gone.data.x" (no stage "gone"; earlier stages: draft)',
      'stages[1].earlyExit.any[1].path: unknown path "verdict"; expected input, stages.<id>.output, stages.<id>.status or stages.<id>.data.<path>',
    ]);
  });

  test("an invalid matches regex; (?i) is accepted", () => {
    expect(issues(withStage(2, { skipIf: { path: "stages.check.output", matches: "([a-z" } }))).toEqual([
      'stages[2].skipIf.matches: invalid regular expression "([a-z": missing terminating ] for character class',
    ]);
    expect(issues(withStage(2, { skipIf: { path: "stages.check.output", matches: "(?i)^ok" } }))).toEqual([]);
  });

  test("duplicate stage ids and extract names; extract on a text stage", () => {
    const p = withStage(2, { id: "draft", output: { format: "json", extract: [{ name: "a", path: "a" }, { name: "b", path: "b" }, { name: "a", path: "c" }] } });
    (p.stages as Obj[])[0]!.output = { extract: [{ name: "x", path: "x" }] };
    expect(issues(p)).toEqual([
      "stages[0].output.extract: extract needs output.format json (or markdown); text has no data to extract from",
      'stages[2].id: duplicate stage id "draft" (also stages[0])',
      'stages[2].output.extract[2].name: duplicate extract name "a" (also extract[0])',
    ]);
  });
});

describe("validatePipeline: providers", () => {
  function stageModel(model: Obj | undefined, defaults?: Obj): string[] {
    const p = base();
    if (defaults) p.defaults = { model: defaults };
    else delete p.defaults;
    p.stages = [{ id: "only", prompt: "x", ...(model ? { model } : {}) }];
    return issues(p);
  }

  test("no model anywhere", () => {
    expect(stageModel(undefined)).toEqual(["stages[0].model: no model: set stages[0].model or defaults.model"]);
    expect(stageModel({ maxTokens: 5 })).toEqual(["stages[0].model: no model: set stages[0].model or defaults.model"]);
  });

  test("an API provider needs a model name", () => {
    expect(stageModel({ provider: "anthropic" })).toEqual([
      "stages[0].model.model: provider anthropic needs a model name, e.g. claude-haiku-4-5; set stages[0].model.model or defaults.model.model",
    ]);
    expect(stageModel({ maxTokens: 9 }, { provider: "google", model: "gemini-2.5-flash" })).toEqual([]);
    // A different provider does not inherit the defaults' model name.
    expect(stageModel({ provider: "openai" }, { provider: "anthropic", model: "claude-haiku-4-5" })).toEqual([
      "stages[0].model.model: provider openai needs a model name, e.g. gpt-4o-mini; set stages[0].model.model or defaults.model.model",
    ]);
  });

  test("cli needs a tool; tool command needs command; command only for tool command", () => {
    expect(stageModel({ provider: "cli" })).toEqual(["stages[0].model.tool: provider cli needs a tool: one of claude, opencode, gemini, command"]);
    expect(stageModel({ provider: "cli", tool: "command" })).toEqual([
      'stages[0].model.command: tool command needs command: the program and its arguments, e.g. ["my-llm", "--json"]',
    ]);
    expect(stageModel({ provider: "cli", tool: "claude", command: ["x"] })).toEqual([
      "stages[0].model.command: command is only used with provider cli and tool command (this stage uses tool claude)",
    ]);
    expect(stageModel({ provider: "local", command: ["x"] })).toEqual([
      "stages[0].model.command: command is only used with provider cli and tool command (this stage uses provider local)",
    ]);
    expect(stageModel({ provider: "cli", tool: "command", command: ["my-llm", "--json"] })).toEqual([]);
  });

  test("warnings for settings that may be fine at run time or are ignored", () => {
    const p = base();
    p.stages = [
      { id: "a", prompt: "x", model: { provider: "openai-compatible", model: "llama3" } },
      { id: "b", prompt: "x", model: { provider: "local", baseURL: "http://127.0.0.1:1/v1", tool: "claude" } },
    ];
    const r = validatePipeline(p);
    expect(r.ok && r.warnings.map(formatIssue)).toEqual([
      "stages[0].model.baseURL: openai-compatible without baseURL: OPENAI_BASE_URL must be set when the pipeline runs",
      "stages[1].model.tool: tool is only used by provider cli; ignored for provider local",
      "stages[1].model.baseURL: baseURL is only used by API providers; ignored for provider local",
    ]);
  });
});

test("several problems at once are all reported, grouped by stage", () => {
  const p = base();
  p.id = "Bad";
  const stages = p.stages as Obj[];
  stages[0] = { ...stages[0], promt: "typo" };
  stages[1] = { ...stages[1], id: "draft", model: { provider: "cli" } };
  stages[2] = { ...stages[2], prompt: "{{stages.nope.output}}", skipIf: { path: "stages.check.output", matches: "(" } };
  expect(issues(p)).toEqual([
    'id: "Bad" must match [a-z0-9-]+ (lowercase letters, digits and dashes)',
    'stages[0]: unknown field "promt"; did you mean "prompt"?',
    'stages[1].id: duplicate stage id "draft" (also stages[0])',
    "stages[1].model.tool: provider cli needs a tool: one of claude, opencode, gemini, command",
    'stages[2].prompt: unknown variable {{stages.nope.output}} (no stage "nope"; earlier stages: draft)',
    'stages[2].skipIf.matches: invalid regular expression "(": missing )',
    'stages[2].skipIf.path: unknown path "stages.check.output" (no stage "check"; earlier stages: draft)',
  ]);
});

test("property: validatePipeline never throws on arbitrary JSON-ish input", () => {
  const key = fc.constantFrom("id", "name", "stages", "defaults", "model", "provider", "prompt", "output", "format", "extract", "path", "skipIf", "all", "any", "not", "equals", "matches", "tool", "command", "__proto__", "constructor", "x");
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.constantFrom("{{input}}", "{{stages.a.output}}", "{{stages.a.data.x}}", "(", "local", "cli", "json", "a", "stages.a.output"),
      fc.string(),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(key, tie("value"), { maxKeys: 6 }),
    ),
  }));
  fc.assert(
    fc.property(value, (raw) => {
      const r = validatePipeline(raw);
      return r.ok ? Array.isArray(r.warnings) : r.issues.length > 0 && r.issues.every((i) => typeof i.path === "string" && i.message.length > 0);
    }),
    { numRuns: 500 },
  );
  // A structured variant that gets past the top-level checks more often.
  fc.assert(
    fc.property(fc.array(fc.dictionary(key, value, { maxKeys: 6 }), { maxLength: 4 }), value, (stages, defaults) => {
      const r = validatePipeline({ id: "p", name: "P", defaults, stages });
      return r.ok || r.issues.length > 0;
    }),
    { numRuns: 500 },
  );
});
