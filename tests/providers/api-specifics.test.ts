// What only one API provider does; the shared behaviour is in api-contract.test.ts.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ProviderConfigError } from "../../src/core/errors.ts";
import { createAnthropicProvider, mapAnthropicStopReason } from "../../src/providers/api/anthropic.ts";
import { createGoogleProvider } from "../../src/providers/api/google.ts";
import { createOpenAIProvider, mapOpenAIFinishReason } from "../../src/providers/api/openai.ts";
import type { Delta, Provider, ResolvedModelConfig } from "../../src/providers/types.ts";
import { startFakeAnthropic } from "../helpers/fake-anthropic.ts";
import { startFakeGoogle } from "../helpers/fake-google.ts";
import type { FakeModelServer } from "../helpers/fake-model-server.ts";
import { startFakeOpenAI } from "../helpers/fake-openai.ts";

const ENV_NAMES = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"];
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
  for (const n of ENV_NAMES) delete process.env[n];
  process.env.ANTHROPIC_API_KEY = "ak";
  process.env.OPENAI_API_KEY = "ok";
  process.env.GOOGLE_GENERATIVE_AI_API_KEY = "gk";
});
afterEach(() => {
  for (const n of ENV_NAMES) {
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
  }
});

async function collect(provider: Provider, model: ResolvedModelConfig): Promise<Delta[]> {
  const deltas: Delta[] = [];
  for await (const d of provider.stream({ model, prompt: "p" }, { signal: new AbortController().signal })) deltas.push(d);
  return deltas;
}

describe("anthropic", () => {
  let fake: FakeModelServer;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(() => fake.stop());

  test("cache writes and reads are reported separately from input", async () => {
    fake.enqueue({ kind: "stream", chunks: ["x"], usage: { inputTokens: 3, outputTokens: 1, cacheReadTokens: 500, cacheWriteTokens: 1200 } });
    const deltas = await collect(createAnthropicProvider(), { provider: "anthropic", baseURL: fake.url });
    expect(deltas.at(-1)).toEqual({
      type: "finish",
      reason: "stop",
      usage: { inputTokens: 3, outputTokens: 1, cacheReadTokens: 500, cacheWriteTokens: 1200 },
    });
    // message_start already carries input and cache counts, before any text
    expect(deltas[0]).toEqual({
      type: "usage",
      usage: { inputTokens: 3, outputTokens: 1, cacheReadTokens: 500, cacheWriteTokens: 1200 },
    });
  });

  test("ANTHROPIC_BASE_URL is used when the stage sets no baseURL; no system prompt means none sent", async () => {
    process.env.ANTHROPIC_BASE_URL = fake.url;
    fake.enqueue({ kind: "stream", chunks: ["via env"] });
    const before = fake.modelRequests.length;
    const deltas = await collect(createAnthropicProvider(), { provider: "anthropic" });
    expect(deltas.filter((d) => d.type === "text")).toEqual([{ type: "text", text: "via env" }]);
    expect("system" in (fake.modelRequests[before]!.body as object)).toBe(false);
  });

  test("stop reasons", async () => {
    fake.enqueue({ kind: "stream", chunks: ["a"], stopReason: "tool-calls" }, { kind: "stream", chunks: ["b"], stopReason: "stop-sequence" });
    const model: ResolvedModelConfig = { provider: "anthropic", baseURL: fake.url };
    expect((await collect(createAnthropicProvider(), model)).at(-1)).toMatchObject({ type: "finish", reason: "tool-calls" });
    expect((await collect(createAnthropicProvider(), model)).at(-1)).toMatchObject({ type: "finish", reason: "stop" });
    expect([null, "pause_turn", "model_context_window_exceeded"].map(mapAnthropicStopReason)).toEqual(["other", "other", "other"]);
  });
});

describe("openai and openai-compatible", () => {
  let fake: FakeModelServer;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(() => fake.stop());

  test("OpenAI gets max_completion_tokens, compatible servers max_tokens; both ask for usage", async () => {
    const before = fake.modelRequests.length;
    await collect(createOpenAIProvider("openai"), { provider: "openai", baseURL: fake.url, maxTokens: 50 });
    await collect(createOpenAIProvider("openai-compatible"), { provider: "openai-compatible", baseURL: fake.url, model: "llama3", maxTokens: 60 });
    const [openai, compatible] = fake.modelRequests.slice(before).map((r) => r.body as Record<string, unknown>);
    expect([openai?.max_completion_tokens, openai?.max_tokens]).toEqual([50, undefined]);
    expect([compatible?.max_completion_tokens, compatible?.max_tokens]).toEqual([undefined, 60]);
    expect(openai?.stream_options).toEqual({ include_usage: true });
    expect(compatible?.stream_options).toEqual({ include_usage: true });
    expect(fake.modelRequests.slice(before).map((r) => r.path)).toEqual(["/v1/chat/completions", "/v1/chat/completions"]);
  });

  test("OPENAI_BASE_URL is used when the stage sets no baseURL, for both kinds", async () => {
    process.env.OPENAI_BASE_URL = fake.url;
    fake.enqueue({ kind: "stream", chunks: ["one"] }, { kind: "stream", chunks: ["two"] });
    const a = await collect(createOpenAIProvider("openai"), { provider: "openai" });
    const b = await collect(createOpenAIProvider("openai-compatible"), { provider: "openai-compatible", model: "qwen" });
    expect([a, b].map((d) => d.flatMap((x) => (x.type === "text" ? [x.text] : [])))).toEqual([["one"], ["two"]]);
  });

  test("openai-compatible without any base URL is a config error naming model.baseURL", async () => {
    const error = await collect(createOpenAIProvider("openai-compatible"), { provider: "openai-compatible", model: "llama3" }).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toContain("model.baseURL");
  });

  test("finish reasons", async () => {
    fake.enqueue({ kind: "stream", chunks: ["a"], stopReason: "tool-calls" });
    const deltas = await collect(createOpenAIProvider("openai"), { provider: "openai", baseURL: fake.url });
    expect(deltas.at(-1)).toMatchObject({ type: "finish", reason: "tool-calls" });
    expect([null, "function_call", "weird"].map(mapOpenAIFinishReason)).toEqual(["other", "tool-calls", "other"]);
  });
});

describe("google", () => {
  let fake: FakeModelServer;
  beforeAll(async () => {
    fake = await startFakeGoogle();
  });
  afterAll(() => fake.stop());

  test("calls streamGenerateContent with alt=sse and the key header", async () => {
    const before = fake.modelRequests.length;
    await collect(createGoogleProvider(), { provider: "google", baseURL: fake.url, model: "gemini-2.5-pro" });
    const req = fake.modelRequests[before]!;
    expect([req.method, req.path, req.search, req.headers["x-goog-api-key"]]).toEqual([
      "POST",
      "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
      "?alt=sse",
      "gk",
    ]);
  });
});
