import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PipelineConfigError, UnknownPipelineError } from "../../src/core/errors.ts";
import { BUILTIN_PIPELINES_DIR, listPipelines, loadPipeline } from "../../src/core/loader.ts";

let cwd: string;
const BUILTINS = ["code-review", "demo", "prompt-optimizer", "summarize-critique"];

const yamlPipeline = (id: string, name: string) =>
  `id: ${id}\nname: ${name}\ndescription: ${name} here\ndefaults:\n  model: { provider: local }\nstages:\n  - id: one\n    prompt: "{{input}}"\n`;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), "stagecast-loader-"));
  const dir = join(cwd, "pipelines");
  mkdirSync(dir);
  mkdirSync(join(cwd, "sub"));
  writeFileSync(join(dir, "demo.yaml"), yamlPipeline("demo", "Local demo"));
  writeFileSync(join(dir, "short.yml"), yamlPipeline("short", "Short"));
  writeFileSync(join(dir, "renamed.yaml"), yamlPipeline("declared-id", "Declared"));
  writeFileSync(
    join(dir, "typed.ts"),
    `export default { id: "typed", name: "Typed", stages: [{ id: "a", prompt: "{{input}}", model: { provider: "local" } }] };\n`,
  );
  writeFileSync(join(dir, "broken.yaml"), `id: broken\nname: Broken\nstages:\n  - id: a\n    prompt: "never closed\n`);
  writeFileSync(
    join(dir, "invalid.yaml"),
    `id: invalid\nname: Invalid\nstages:\n  - id: a\n    promt: hi\n    model: { provider: local }\n  - id: b\n    prompt: "{{stages.zzz.output}}"\n    model: { provider: local }\n`,
  );
  writeFileSync(join(dir, "empty.yaml"), "\n");
  writeFileSync(join(cwd, "sub", "p.yaml"), yamlPipeline("by-path", "By path"));
  writeFileSync(join(cwd, "sub", "throws.ts"), `throw new Error("boom at import");\nexport default {};\n`);
  writeFileSync(join(cwd, "sub", "nodefault.ts"), `export const pipeline = { id: "x" };\n`);
  writeFileSync(join(cwd, "sub", "bad-ts.ts"), `export default { id: "bad-ts", name: "B", stages: [{ id: "a" }] };\n`);
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

async function configError(ref: string): Promise<PipelineConfigError> {
  try {
    await loadPipeline(ref, { cwd });
  } catch (err) {
    expect(err).toBeInstanceOf(PipelineConfigError);
    return err as PipelineConfigError;
  }
  throw new Error(`expected ${ref} to fail`);
}

describe("loadPipeline: resolution order", () => {
  test("a built-in id loads from the checkout, whatever the cwd", async () => {
    const loaded = await loadPipeline("code-review", { cwd });
    expect([loaded.config.id, loaded.builtin, loaded.source, loaded.warnings]).toEqual([
      "code-review",
      true,
      join(BUILTIN_PIPELINES_DIR, "code-review.yaml"),
      [],
    ]);
  });

  test("a local pipeline shadows the built-in of the same id", async () => {
    const loaded = await loadPipeline("demo", { cwd });
    expect([loaded.config.name, loaded.builtin, loaded.source]).toEqual(["Local demo", false, join(cwd, "pipelines", "demo.yaml")]);
  });

  test("local ids find .yml and .ts files, and a file whose declared id differs from its name", async () => {
    expect((await loadPipeline("short", { cwd })).config.name).toBe("Short");
    const typed = await loadPipeline("typed", { cwd });
    expect([typed.config.name, typed.config.stages[0]!.prompt, typed.source]).toEqual(["Typed", "{{input}}", join(cwd, "pipelines", "typed.ts")]);
    const declared = await loadPipeline("declared-id", { cwd });
    expect([declared.config.name, declared.source]).toEqual(["Declared", join(cwd, "pipelines", "renamed.yaml")]);
  });

  test("a path, relative to the cwd or absolute", async () => {
    expect((await loadPipeline("sub/p.yaml", { cwd })).config.id).toBe("by-path");
    expect((await loadPipeline(join(cwd, "sub", "p.yaml"), { cwd })).source).toBe(join(cwd, "sub", "p.yaml"));
    expect((await loadPipeline("pipelines/typed.ts", { cwd })).config.id).toBe("typed");
  });
});

describe("loadPipeline: errors", () => {
  test("a YAML syntax error names line and column", async () => {
    const err = await configError("broken");
    expect(err.source).toBe(join(cwd, "pipelines", "broken.yaml"));
    expect(err.issues).toEqual([{ path: "", message: 'YAML syntax error at line 6, column 1: Missing closing "quote' }]);
  });

  test("an invalid file lists every problem with its path", async () => {
    const err = await configError("invalid");
    expect(err.issues).toEqual([
      { path: "stages[0].prompt", message: "missing; expected a string" },
      { path: "stages[0]", message: 'unknown field "promt"; did you mean "prompt"?' },
      { path: "stages[1].prompt", message: 'unknown variable {{stages.zzz.output}} (no stage "zzz"; earlier stages: a)' },
    ]);
    expect(err.message).toBe(
      `${join(cwd, "pipelines", "invalid.yaml")}: 3 problems:\n` +
        "  stages[0].prompt: missing; expected a string\n" +
        '  stages[0]: unknown field "promt"; did you mean "prompt"?\n' +
        '  stages[1].prompt: unknown variable {{stages.zzz.output}} (no stage "zzz"; earlier stages: a)',
    );
  });

  test("an empty file", async () => {
    expect((await configError("empty")).issues).toEqual([{ path: "", message: "the file is empty; a pipeline needs id, name and stages" }]);
  });

  test(".ts modules that throw, lack a default export, or export an invalid pipeline", async () => {
    expect((await configError("sub/throws.ts")).issues).toEqual([{ path: "", message: "the module failed to load: boom at import" }]);
    expect((await configError("sub/nodefault.ts")).issues).toEqual([
      { path: "", message: "the module has no default export; write `export default { id, name, stages: [...] }`" },
    ]);
    expect((await configError("sub/bad-ts.ts")).issues).toEqual([
      { path: "stages[0].prompt", message: "missing; expected a string" },
      { path: "stages[0].model", message: "no model: set stages[0].model or defaults.model" },
    ]);
  });

  test("an unknown id says where it looked", async () => {
    const err = await configError("nope");
    expect(err).toBeInstanceOf(UnknownPipelineError);
    expect([err.code, err.message, (err as UnknownPipelineError).available]).toEqual([
      "unknown_pipeline",
      `unknown pipeline "nope": not a built-in (available: ${BUILTINS.join(", ")}), not in ./pipelines/, not a file`,
      BUILTINS,
    ]);
  });

  test("allowPaths: false refuses paths (ids from URLs) but still loads ids", async () => {
    let caught: unknown;
    try {
      await loadPipeline("../sub/p.yaml", { cwd, allowPaths: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnknownPipelineError);
    expect((caught as Error).message).toBe('unknown pipeline "../sub/p.yaml": expected a pipeline id ([a-z0-9-]+), not a path');
    expect((await loadPipeline("short", { cwd, allowPaths: false })).config.id).toBe("short");
  });

  test("a missing file path", async () => {
    const err = await configError("sub/missing.yaml");
    expect(err).toBeInstanceOf(UnknownPipelineError);
    expect(err.message).toBe(`unknown pipeline "sub/missing.yaml": no such file (looked for sub/missing.yaml in ${cwd})`);
  });
});

describe("listPipelines", () => {
  test("built-ins then local files; invalid files listed with their issues; shadowed built-ins marked", async () => {
    const list = await listPipelines({ cwd });
    expect(list.map((p) => [p.id, p.builtin, p.valid, p.shadowed ?? false])).toEqual([
      ["code-review", true, true, false],
      ["demo", true, true, true],
      ["prompt-optimizer", true, true, false],
      ["summarize-critique", true, true, false],
      ["broken", false, false, false],
      ["demo", false, true, false],
      ["empty", false, false, false],
      ["invalid", false, false, false],
      ["declared-id", false, true, false],
      ["short", false, true, false],
      ["typed", false, true, false],
    ]);
    const byName = (source: string) => list.find((p) => p.source === join(cwd, "pipelines", source));
    expect(byName("invalid.yaml")).toEqual({
      id: "invalid",
      name: "Invalid",
      stageCount: 2,
      source: join(cwd, "pipelines", "invalid.yaml"),
      builtin: false,
      valid: false,
      issues: [
        { path: "stages[0].prompt", message: "missing; expected a string" },
        { path: "stages[0]", message: 'unknown field "promt"; did you mean "prompt"?' },
        { path: "stages[1].prompt", message: 'unknown variable {{stages.zzz.output}} (no stage "zzz"; earlier stages: a)' },
      ],
    });
    expect(byName("broken.yaml")).toEqual({
      id: "broken",
      name: "broken",
      stageCount: 0,
      source: join(cwd, "pipelines", "broken.yaml"),
      builtin: false,
      valid: false,
      issues: [{ path: "", message: 'YAML syntax error at line 6, column 1: Missing closing "quote' }],
    });
    expect(byName("short.yml")).toEqual({
      id: "short",
      name: "Short",
      description: "Short here",
      stageCount: 1,
      source: join(cwd, "pipelines", "short.yml"),
      builtin: false,
      valid: true,
      issues: [],
    });
  });

  test("a cwd without pipelines/ lists the built-ins only", async () => {
    const empty = mkdtempSync(join(tmpdir(), "stagecast-loader-empty-"));
    try {
      expect((await listPipelines({ cwd: empty })).map((p) => p.id)).toEqual(BUILTINS);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("run from the checkout itself, the built-in folder is not listed twice", async () => {
    const list = await listPipelines({ cwd: join(BUILTIN_PIPELINES_DIR, "..") });
    expect(list.map((p) => [p.id, p.builtin])).toEqual(BUILTINS.map((id) => [id, true]));
  });
});
