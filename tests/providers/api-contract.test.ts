// One contract suite for every HTTP API provider: each row drives the real SDK against a fake
// server speaking that API's real wire format (tests/helpers/fake-*.ts). A new API provider is a
// new row, not new tests.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ProviderConfigError, ProviderHttpError, ProviderNetworkError } from "../../src/core/errors.ts";
import type { Delta, ResolvedModelConfig } from "../../src/providers/types.ts";
import { type FakeModelServer, createGate } from "../helpers/fake-model-server.ts";
import { CONTRACT_ROWS } from "./api-rows.ts";
import { drain } from "../helpers/drain.ts";

const ENV_NAMES = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "GOOGLE_GENERATIVE_AI_API_KEY",
  "ANTHROPIC_BASE_URL",
  "OPENAI_BASE_URL",
  "MY_TEAM_KEY",
];


const textOf = (deltas: Delta[]) =>
  deltas.flatMap((d) => (d.type === "text" ? [d.text] : []));

describe.each(CONTRACT_ROWS)("$name provider contract", (row) => {
  let fake: FakeModelServer;
  let saved: Record<string, string | undefined>;
  const key = `test-key-${row.name}`;

  beforeAll(async () => {
    fake = await row.start();
  });
  afterAll(async () => {
    await fake.stop();
  });
  beforeEach(() => {
    saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
    for (const n of ENV_NAMES) delete process.env[n];
    process.env[row.keyEnv] = key;
  });
  afterEach(() => {
    for (const n of ENV_NAMES) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });

  const model = (extra: Partial<ResolvedModelConfig> = {}): ResolvedModelConfig => ({
    provider: row.name,
    model: "model-under-test",
    baseURL: fake.url,
    ...extra,
  });
  const run = (m: ResolvedModelConfig, signal = new AbortController().signal) =>
    row.provider().stream({ model: m, system: "Be terse.", prompt: "Say hello." }, { signal });

  test("deltas arrive one by one, each before the server sends the next chunk", async () => {
    const chunks = ["Hel", "lo, ", "wörld", " — done ✓"];
    const gate = createGate();
    fake.enqueue({ kind: "stream", chunks, gate });
    const before = fake.modelRequests.length;
    const it = run(model())[Symbol.asyncIterator]();
    const seen: Delta[] = [];
    gate.release();
    for (let k = 0; k < chunks.length; k++) {
      let next = await it.next();
      while (!next.done && next.value.type !== "text") {
        seen.push(next.value);
        next = await it.next();
      }
      expect(next.done).toBe(false);
      expect(next.value).toEqual({ type: "text", text: chunks[k] });
      // The server has sent exactly k+1 chunks: delta k reached us before chunk k+1 existed.
      expect(fake.sent.filter((s) => s.request === before).map((s) => s.text)).toEqual(chunks.slice(0, k + 1));
      seen.push(next.value);
      gate.release();
    }
    for (let next = await it.next(); !next.done; next = await it.next()) seen.push(next.value);
    expect(textOf(seen)).toEqual(chunks);
    expect(seen.at(-1)).toEqual({ type: "finish", reason: "stop", usage: { inputTokens: 12, outputTokens: 4 } });
  });

  test("exact text, delta count, usage (cache reads included) and finish reason", async () => {
    const chunks = ["The answer", " is ", "42", "."];
    fake.enqueue({ kind: "stream", chunks, usage: { inputTokens: 31, outputTokens: 9, cacheReadTokens: 5 } });
    const { items: deltas, error } = await drain(run(model()));
    expect(error).toBeUndefined();
    expect(textOf(deltas)).toEqual(chunks);
    expect(textOf(deltas).join("")).toBe("The answer is 42.");
    const finish = deltas.at(-1);
    expect(finish).toEqual({
      type: "finish",
      reason: "stop",
      usage: { inputTokens: 31, outputTokens: 9, cacheReadTokens: 5 },
    });
    expect(deltas.filter((d) => d.type === "finish")).toHaveLength(1);
    const lastUsage = deltas.filter((d) => d.type === "usage").at(-1);
    expect(lastUsage).toEqual({ type: "usage", usage: { inputTokens: 31, outputTokens: 9, cacheReadTokens: 5 } });
  });

  test.each([
    ["length", "length"],
    ["content-filter", "content-filter"],
  ] as const)("finish reason %s maps to %s", async (stopReason, expected) => {
    fake.enqueue({ kind: "stream", chunks: ["cut short"], stopReason });
    const { items: deltas, error } = await drain(run(model()));
    expect(error).toBeUndefined();
    const finish = deltas.at(-1);
    expect(finish?.type === "finish" ? finish.reason : undefined).toBe(expected);
  });

  test("system prompt, prompt, max tokens, temperature, model and key are sent", async () => {
    fake.enqueue({ kind: "stream", chunks: ["ok"] });
    const before = fake.modelRequests.length;
    const { error } = await drain(run(model({ model: "special-model-7", maxTokens: 321, temperature: 0.25 })));
    expect(error).toBeUndefined();
    const req = fake.modelRequests[before]!;
    expect(row.sent(req)).toEqual({
      model: "special-model-7",
      system: "Be terse.",
      prompt: "Say hello.",
      maxTokens: 321,
      temperature: 0.25,
    });
    expect(row.sentKey(req)).toBe(key);
  });

  test("defaults: max tokens 1024, no temperature, default model (or a clear error when one is required)", async () => {
    const before = fake.modelRequests.length;
    if (row.defaultModel === null) {
      const { error } = await drain(run(model({ model: undefined })));
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as Error).message).toContain("model.model");
      expect(fake.modelRequests.length).toBe(before);
      return;
    }
    fake.enqueue({ kind: "stream", chunks: ["ok"] });
    const { error } = await drain(run(model({ model: undefined })));
    expect(error).toBeUndefined();
    expect(row.sent(fake.modelRequests[before]!)).toEqual({
      model: row.defaultModel,
      system: "Be terse.",
      prompt: "Say hello.",
      maxTokens: 1024,
      temperature: undefined,
    });
  });

  test("429 with Retry-After → ProviderHttpError, retryable, retryAfterMs", async () => {
    fake.enqueue({ kind: "http-error", status: 429, headers: { "retry-after": "7" }, message: "slow down" });
    const { items: deltas, error } = await drain(run(model()));
    expect(deltas).toEqual([]);
    expect(error).toBeInstanceOf(ProviderHttpError);
    const e = error as ProviderHttpError;
    expect([e.status, e.retryable, e.retryAfterMs]).toEqual([429, true, 7000]);
    expect(e.message).toBe(`${row.name}: HTTP 429: slow down`);
  });

  test("retry-after-ms wins over retry-after", async () => {
    fake.enqueue({ kind: "http-error", status: 429, headers: { "retry-after": "7", "retry-after-ms": "1500" } });
    const { error } = await drain(run(model()));
    expect((error as ProviderHttpError).retryAfterMs).toBe(1500);
  });

  test.each([
    [500, true],
    [529, true],
    [503, true],
    [400, false],
    [401, false],
  ])("HTTP %d → ProviderHttpError, retryable %p", async (status, retryable) => {
    fake.enqueue({ kind: "http-error", status });
    const { error } = await drain(run(model()));
    expect(error).toBeInstanceOf(ProviderHttpError);
    const e = error as ProviderHttpError;
    expect([e.status, e.retryable, e.retryAfterMs]).toEqual([status, retryable, undefined]);
  });

  test("a stream that ends before the final event → ProviderNetworkError, text before the cut yielded", async () => {
    fake.enqueue({ kind: "cut", chunks: ["half ", "an answ"] });
    const { items: deltas, error } = await drain(run(model()));
    expect(textOf(deltas)).toEqual(["half ", "an answ"]);
    expect(deltas.some((d) => d.type === "finish")).toBe(false);
    expect(error).toBeInstanceOf(ProviderNetworkError);
    expect((error as ProviderNetworkError).retryable).toBe(true);
    expect((error as Error).message).toContain("connection cut mid-answer");
  });

  test("a connection torn down mid-body → ProviderNetworkError, text before the cut yielded", async () => {
    const gate = createGate();
    fake.enqueue({ kind: "cut", chunks: ["one ", "two"], abrupt: true, gate });
    const it = run(model())[Symbol.asyncIterator]();
    const deltas: Delta[] = [];
    gate.release(2);
    // Wait until both chunks are in our hands, then let the server tear the connection down.
    while (textOf(deltas).length < 2) {
      const next = await it.next();
      expect(next.done).toBe(false);
      deltas.push(next.value as Delta);
    }
    gate.release();
    let error: unknown;
    try {
      for (let next = await it.next(); !next.done; next = await it.next()) deltas.push(next.value);
    } catch (e) {
      error = e;
    }
    expect(textOf(deltas)).toEqual(["one ", "two"]);
    expect(error).toBeInstanceOf(ProviderNetworkError);
    expect((error as ProviderNetworkError).retryable).toBe(true);
  });

  test("an error event mid-stream → retryable ProviderHttpError", async () => {
    fake.enqueue({ kind: "sse-error", chunks: ["partial"], errorType: row.sseError.errorType, message: "busy" });
    const { items: deltas, error } = await drain(run(model()));
    expect(textOf(deltas)).toEqual(["partial"]);
    expect(error).toBeInstanceOf(ProviderHttpError);
    const e = error as ProviderHttpError;
    expect([e.status, e.retryable]).toEqual([row.sseError.status, true]);
    expect(e.message).toContain("busy");
  });

  test("abort mid-stream ends iteration with the signal's reason and the server sees the connection close", async () => {
    fake.enqueue({ kind: "hang", chunks: ["first words"] });
    const abortsBefore = fake.aborted;
    const controller = new AbortController();
    const reason = new Error("user pressed Ctrl-C");
    const it = run(model(), controller.signal)[Symbol.asyncIterator]();
    const deltas: Delta[] = [];
    while (textOf(deltas).length < 1) deltas.push((await it.next()).value as Delta);
    controller.abort(reason);
    const outcome = await it.next().then(
      (r) => ({ resolved: r }),
      (e: unknown) => ({ rejected: e }),
    );
    expect(outcome).toEqual({ rejected: reason });
    expect(textOf(deltas)).toEqual(["first words"]);
    await fake.whenAborted(abortsBefore + 1);
    expect(fake.aborted).toBe(abortsBefore + 1);
  });

  test("abort while waiting for the first byte ends the call too", async () => {
    fake.enqueue({ kind: "hang" });
    const abortsBefore = fake.aborted;
    const requestsBefore = fake.modelRequests.length;
    const controller = new AbortController();
    const reason = new DOMException("stage timed out", "TimeoutError");
    const result = drain(run(model(), controller.signal));
    await fake.whenModelRequest(requestsBefore + 1);
    controller.abort(reason);
    const { items: deltas, error } = await result;
    expect(error).toBe(reason);
    expect(textOf(deltas)).toEqual([]);
    await fake.whenAborted(abortsBefore + 1);
  });

  test("an already aborted signal makes no request", async () => {
    const before = fake.requests.length;
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    const { error } = await drain(run(model(), controller.signal));
    expect((error as Error).message).toBe("too late");
    expect(fake.requests.length).toBe(before);
  });

  if (row.keyRequired) {
    test("missing API key → ProviderConfigError naming the variable, no request made", async () => {
      delete process.env[row.keyEnv];
      const before = fake.requests.length;
      const { error } = await drain(run(model()));
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as Error).message).toContain(row.keyEnv);
      expect(fake.requests.length).toBe(before);
    });
  } else {
    test("no API key is fine (local servers): a placeholder is sent", async () => {
      delete process.env[row.keyEnv];
      fake.enqueue({ kind: "stream", chunks: ["local"] });
      const before = fake.modelRequests.length;
      const { items: deltas, error } = await drain(run(model()));
      expect(error).toBeUndefined();
      expect(textOf(deltas)).toEqual(["local"]);
      expect(row.sentKey(fake.modelRequests[before]!)).toBe("not-needed");
    });
  }

  test("apiKeyEnv names another variable, read and named in errors", async () => {
    delete process.env[row.keyEnv];
    if (row.keyRequired) {
      const { error } = await drain(run(model({ apiKeyEnv: "MY_TEAM_KEY" })));
      expect(error).toBeInstanceOf(ProviderConfigError);
      expect((error as Error).message).toContain("MY_TEAM_KEY");
    }
    process.env.MY_TEAM_KEY = "team-secret";
    fake.enqueue({ kind: "stream", chunks: ["ok"] });
    const before = fake.modelRequests.length;
    const { error } = await drain(run(model({ apiKeyEnv: "MY_TEAM_KEY" })));
    expect(error).toBeUndefined();
    expect(row.sentKey(fake.modelRequests[before]!)).toBe("team-secret");
  });
});
