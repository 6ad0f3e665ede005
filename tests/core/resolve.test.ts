import { describe, expect, test } from "bun:test";
import { modelLabel, resolveStage, resolveStages } from "../../src/core/resolve.ts";
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, type PipelineConfig, type StageConfig } from "../../src/protocol/pipeline.ts";
import type { RunOverrides } from "../../src/core/types.ts";
import type { ResolvedModelConfig } from "../../src/providers/types.ts";

function pipeline(stages: Partial<StageConfig>[], defaults?: PipelineConfig["defaults"]): PipelineConfig {
  return {
    id: "p",
    name: "P",
    ...(defaults ? { defaults } : {}),
    stages: stages.map((s, i) => ({ id: `s${i}`, prompt: "x", ...s })),
  };
}

const NO_KEYS = {};
const model = (p: PipelineConfig, overrides?: RunOverrides, env: Record<string, string> = NO_KEYS, i = 0) =>
  resolveStage(p, i, overrides, env).model;

describe("resolveStage: defaults and the stage", () => {
  test("ref, retries, timeout, output and system defaults", () => {
    const p = pipeline([{ model: { provider: "local" } }]);
    expect(resolveStage(p, 0)).toEqual({
      ref: { id: "s0", name: "s0", type: "generate", provider: "local", model: "SmolLM2-135M-Instruct" },
      index: 0,
      config: p.stages[0]!,
      model: { provider: "local" },
      retries: DEFAULT_RETRIES,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      output: { format: "text" },
    });
  });

  test("the ref's model label: the model name, the provider's default, the agent CLI, or the GGUF file", () => {
    const label = (m: Record<string, unknown>) => modelLabel(m as never);
    expect(label({ provider: "anthropic", model: "claude-sonnet-4-5" })).toBe("claude-sonnet-4-5");
    expect(label({ provider: "openai" })).toBe("gpt-4o-mini");
    expect(label({ provider: "cli", tool: "claude", model: "claude-haiku-4-5" })).toBe("claude · claude-haiku-4-5");
    expect(label({ provider: "cli", tool: "command", command: ["/usr/bin/my-tool", "--x"] })).toBe("my-tool");
    expect(label({ provider: "local", path: "models/tiny.gguf" })).toBe("tiny.gguf");
  });

  test("stage values win over defaults, which win over built-in defaults", () => {
    const p = pipeline(
      [
        { name: "Draft", type: "write", retries: 0, output: { format: "json" }, system: "stage sys" },
        { timeoutMs: 5 },
      ],
      { model: { provider: "local" }, system: "default sys", retries: 4, timeoutMs: 1000 },
    );
    const [a, b] = resolveStages(p, undefined, NO_KEYS);
    expect([a!.ref, a!.retries, a!.timeoutMs, a!.output, a!.system]).toEqual([
      { id: "s0", name: "Draft", type: "write", provider: "local", model: "SmolLM2-135M-Instruct" },
      0,
      1000,
      { format: "json" },
      "stage sys",
    ]);
    expect([b!.ref, b!.retries, b!.timeoutMs, b!.system]).toEqual([
      { id: "s1", name: "s1", type: "generate", provider: "local", model: "SmolLM2-135M-Instruct" },
      4,
      5,
      "default sys",
    ]);
  });

  test("model merges field by field when the provider is the same", () => {
    const p = pipeline([{ model: { maxTokens: 50 } }, { model: { provider: "anthropic", temperature: 1 } }], {
      model: { provider: "anthropic", model: "claude-haiku-4-5", maxTokens: 1024, temperature: 0.3, baseURL: "http://127.0.0.1:1" },
    });
    expect(model(p)).toEqual({ provider: "anthropic", model: "claude-haiku-4-5", maxTokens: 50, temperature: 0.3, baseURL: "http://127.0.0.1:1" });
    expect(model(p, undefined, NO_KEYS, 1)).toEqual({
      provider: "anthropic",
      model: "claude-haiku-4-5",
      maxTokens: 1024,
      temperature: 1,
      baseURL: "http://127.0.0.1:1",
    });
  });

  test("a different provider inherits only maxTokens and temperature", () => {
    const p = pipeline([{ model: { provider: "openai", model: "gpt-4o-mini" } }, { model: { provider: "cli", tool: "gemini" } }], {
      model: { provider: "cli", tool: "command", command: ["x"], model: "m", maxTokens: 10, temperature: 0.5, cwd: "/tmp" },
    });
    expect(model(p)).toEqual({ provider: "openai", model: "gpt-4o-mini", maxTokens: 10, temperature: 0.5 });
    // another agent CLI: the defaults' model name and argv do not carry over, its sandbox settings do
    expect(model(p, undefined, NO_KEYS, 1)).toEqual({ provider: "cli", tool: "gemini", maxTokens: 10, temperature: 0.5, cwd: "/tmp" });
  });

  test("an out-of-range index is a RangeError", () => {
    expect(() => resolveStage(pipeline([{}]), 3)).toThrow(new RangeError("no stage at index 3 (the pipeline has 1)"));
  });
});

describe("resolveStage: --mode / --tool overrides", () => {
  const anthropic = pipeline([{ model: { provider: "anthropic", model: "claude-sonnet-4-5", maxTokens: 300, temperature: 0.2, baseURL: "http://127.0.0.1:1" } }]);
  const local = pipeline([{ model: { provider: "local", path: "/m.gguf", maxTokens: 96 } }]);
  const cliOpencode = pipeline([{ model: { provider: "cli", tool: "opencode", model: "x/y", allowedTools: ["Read"] } }]);

  test("no overrides: unchanged", () => {
    expect(model(anthropic, {})).toEqual({ ...anthropic.stages[0]!.model } as ResolvedModelConfig);
  });

  test("mode local keeps maxTokens/temperature; path only when already local", () => {
    expect(model(anthropic, { mode: "local" })).toEqual({ provider: "local", maxTokens: 300, temperature: 0.2 });
    expect(model(local, { mode: "local" })).toEqual({ provider: "local", path: "/m.gguf", maxTokens: 96 });
  });

  test("mode cli: claude by default; the model name is kept only from anthropic to claude", () => {
    expect(model(anthropic, { mode: "cli" })).toEqual({ provider: "cli", tool: "claude", model: "claude-sonnet-4-5", maxTokens: 300, temperature: 0.2 });
    expect(model(anthropic, { mode: "cli", tool: "gemini" })).toEqual({ provider: "cli", tool: "gemini", maxTokens: 300, temperature: 0.2 });
    expect(model(local, { mode: "cli" })).toEqual({ provider: "cli", tool: "claude", maxTokens: 96 });
  });

  test("tool alone implies mode cli", () => {
    expect(model(anthropic, { tool: "claude" })).toEqual({ provider: "cli", tool: "claude", model: "claude-sonnet-4-5", maxTokens: 300, temperature: 0.2 });
    expect(model(local, { tool: "opencode" })).toEqual({ provider: "cli", tool: "opencode", maxTokens: 96 });
  });

  test("a stage already on the requested CLI keeps its settings; another tool replaces them", () => {
    expect(model(cliOpencode, { mode: "cli" })).toEqual({ provider: "cli", tool: "opencode", model: "x/y", allowedTools: ["Read"] });
    expect(model(cliOpencode, { tool: "opencode" })).toEqual({ provider: "cli", tool: "opencode", model: "x/y", allowedTools: ["Read"] });
    expect(model(cliOpencode, { tool: "claude" })).toEqual({ provider: "cli", tool: "claude" });
  });

  test("mode api leaves API stages alone and moves others to the first provider with a key", () => {
    expect(model(anthropic, { mode: "api" }, { OPENAI_API_KEY: "k" })).toEqual({ ...anthropic.stages[0]!.model } as ResolvedModelConfig);
    const openaiCompat = pipeline([{ model: { provider: "openai-compatible", model: "llama3" } }]);
    expect(model(openaiCompat, { mode: "api" })).toEqual({ provider: "openai-compatible", model: "llama3" });

    expect(model(local, { mode: "api" }, { ANTHROPIC_API_KEY: "a", OPENAI_API_KEY: "o" })).toEqual({ provider: "anthropic", model: "claude-haiku-4-5", maxTokens: 96 });
    expect(model(local, { mode: "api" }, { OPENAI_API_KEY: "o", GOOGLE_GENERATIVE_AI_API_KEY: "g" })).toEqual({ provider: "openai", model: "gpt-4o-mini", maxTokens: 96 });
    expect(model(local, { mode: "api" }, { GOOGLE_GENERATIVE_AI_API_KEY: "g" })).toEqual({ provider: "google", model: "gemini-2.5-flash", maxTokens: 96 });
    expect(model(cliOpencode, { mode: "api" }, { ANTHROPIC_API_KEY: "" })).toEqual({ provider: "anthropic", model: "claude-haiku-4-5" });
  });
});
