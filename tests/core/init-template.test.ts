import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { PipelineConfigError } from "../../src/core/errors.ts";
import { initTemplate, pipelineIdProblem } from "../../src/core/init-template.ts";
import { validatePipeline } from "../../src/core/validate.ts";

describe("initTemplate", () => {
  test("a valid two-stage pipeline on the local model, named after the id", () => {
    const r = validatePipeline(parse(initTemplate("weekly-report")));
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect([r.config.id, r.config.name, r.config.stages.map((s) => s.id), r.config.defaults?.model?.provider, r.warnings]).toEqual([
      "weekly-report",
      "Weekly report",
      ["draft", "improve"],
      "local",
      [],
    ]);
    expect(initTemplate("weekly-report")).toStartWith("# weekly-report: a stagecast pipeline.");
  });

  test("ids outside [a-z0-9-]+ are refused with a suggestion", () => {
    expect(pipelineIdProblem("ok-2")).toBeUndefined();
    expect(pipelineIdProblem("My Pipe!")).toBe('"My Pipe!" is not a valid pipeline id: use lowercase letters, digits and dashes (e.g. my-pipe)');
    expect(pipelineIdProblem("")).toBe('"" is not a valid pipeline id: use lowercase letters, digits and dashes');
    let caught: unknown;
    try {
      initTemplate("Bad_Name");
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PipelineConfigError);
    expect((caught as PipelineConfigError).issues).toEqual([
      { path: "id", message: '"Bad_Name" is not a valid pipeline id: use lowercase letters, digits and dashes (e.g. bad-name)' },
    ]);
  });
});
