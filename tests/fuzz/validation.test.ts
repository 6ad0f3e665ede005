// Property tests of pipeline-file validation: any value, and any YAML text loaded from a file, gives a
// clean result or a clean error (issues with a path and a message) — never a crash.
import { afterAll, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { PipelineConfigError } from "../../src/core/errors.ts";
import { loadPipeline } from "../../src/core/loader.ts";
import { formatIssue, validatePipeline } from "../../src/core/validate.ts";

const dir = mkdtempSync(join(tmpdir(), "stagecast-fuzz-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const idLike = fc.oneof(fc.stringMatching(/^[a-z0-9-]{1,12}$/), fc.string({ maxLength: 8 }), fc.constant(""));
const anyValue = fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true });
const template = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("{{input}}", "{{stages.a.output}}", "{{stages.nope.output}}", "{{stages.a.data.x.y}}", "{{", "}}", "{{ input }}", "{{stages..output}}"),
);
/** Pipelines that are close to valid: the right keys with values of any type, so validation goes deep. */
const nearPipelineOf = (anyValue: fc.Arbitrary<unknown>) => fc.record(
  {
    id: idLike,
    name: fc.oneof(fc.string({ maxLength: 10 }), anyValue),
    description: anyValue,
    defaults: fc.record({ model: fc.record({ provider: fc.oneof(fc.constantFrom("anthropic", "openai", "openai-compatible", "google", "local", "cli", "nope"), anyValue), model: anyValue, maxTokens: anyValue, temperature: anyValue, tool: anyValue, command: anyValue, baseURL: anyValue }, { requiredKeys: [] }) }, { requiredKeys: [] }),
    stages: fc.oneof(
      fc.array(
        fc.record(
          {
            id: fc.oneof(fc.constantFrom("a", "b", "a"), idLike),
            prompt: template,
            system: template,
            model: anyValue,
            output: fc.oneof(anyValue, fc.record({ format: fc.constantFrom("text", "json", "markdown", "xml"), extract: fc.array(fc.record({ name: idLike, path: fc.string({ maxLength: 10 }), required: anyValue }, { requiredKeys: [] }), { maxLength: 3 }) }, { requiredKeys: [] })),
            retries: anyValue,
            timeoutMs: anyValue,
            skipIf: fc.oneof(anyValue, fc.record({ path: fc.string({ maxLength: 20 }), equals: anyValue }, { requiredKeys: [] })),
            runIf: anyValue,
            earlyExit: anyValue,
            continueOnError: anyValue,
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      anyValue,
    ),
  },
  { requiredKeys: [] },
);
const nearPipeline = nearPipelineOf(anyValue);

function expectClean(result: ReturnType<typeof validatePipeline>): void {
  if (result.ok) {
    expect(typeof result.config.id).toBe("string");
    expect(Array.isArray(result.config.stages)).toBe(true);
    return;
  }
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(typeof issue.path).toBe("string");
    expect(typeof issue.message).toBe("string");
    expect(issue.message.length).toBeGreaterThan(0);
    expect(formatIssue(issue)).not.toContain("    at "); // no stack trace in front of a user
  }
}

test("validatePipeline never throws, on any value", () => {
  fc.assert(
    fc.property(fc.oneof(anyValue, nearPipeline), (raw) => {
      expectClean(validatePipeline(raw));
    }),
    // Found by this property: a bigint (possible in a .ts pipeline module) made the error text throw.
    { numRuns: 400, examples: [[{ stages: 0n }], [{ defaults: { model: { tool: [0n] } } }]] },
  );
});

test("loading any YAML text from a file gives a pipeline or a PipelineConfigError, never another exception", async () => {
  const yamlText = fc.oneof(
    fc.string({ maxLength: 200 }),
    // JSON-like values only: YAML has no way to write a JS Map key, and says so on stderr.
    nearPipelineOf(fc.jsonValue({ maxDepth: 3 })).map((p) => {
      try {
        return stringify(p);
      } catch {
        return "id: [unclosed";
      }
    }),
    // Found by this property: an alias to no anchor made the loader throw a ReferenceError.
    fc.constantFrom("", "*!", "id: *nope", "---\n---\n", "id: x\nstages: !!binary abc", "&a [*a]", "id: &x\n  <<: *x", "\t- tab\n", "key: 'unterminated"),
  );
  await fc.assert(
    fc.asyncProperty(yamlText, async (text) => {
      const file = join(dir, "fuzz.yaml");
      writeFileSync(file, text);
      try {
        const loaded = await loadPipeline(file, { cwd: dir, allowPaths: true });
        expect(typeof loaded.config.id).toBe("string");
      } catch (err) {
        expect(err).toBeInstanceOf(PipelineConfigError);
        expect((err as Error).message.length).toBeGreaterThan(0);
      }
    }),
    { numRuns: 150 },
  );
});
