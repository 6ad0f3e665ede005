// The fakes themselves: every later test leans on them, so their extra endpoints and bookkeeping
// are checked here with the real SDKs.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeAnthropic } from "./fake-anthropic.ts";
import { createGate, type FakeModelServer } from "./fake-model-server.ts";
import { startFakeOpenAI } from "./fake-openai.ts";

describe("fake Anthropic", () => {
  let fake: FakeModelServer;
  let client: Anthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
    client = new Anthropic({ apiKey: "k", baseURL: fake.url, maxRetries: 0 });
  });
  afterAll(() => fake.stop());

  test("the SDK's MessageStream helper assembles the final message (the wire format is complete)", async () => {
    fake.enqueue({ kind: "stream", chunks: ["Hello", ", ", "world"], usage: { inputTokens: 9, outputTokens: 3 } });
    const stream = client.messages.stream({ model: "claude-opus-4-1", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const message = await stream.finalMessage();
    expect(texts).toEqual(["Hello", ", ", "world"]);
    expect(message.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["Hello, world"]);
    expect([message.model, message.stop_reason, message.usage.input_tokens, message.usage.output_tokens]).toEqual([
      "claude-opus-4-1",
      "end_turn",
      9,
      3,
    ]);
  });

  test("non-streaming calls with tools in the body, on /v1/messages?beta=true as Claude Code sends them", async () => {
    fake.enqueue({ kind: "stream", chunks: ["whole ", "answer"] });
    const before = fake.modelRequests.length;
    const res = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model: "any-model-name",
        max_tokens: 5,
        messages: [{ role: "user", content: "hi" }],
        tools: [{ name: "Bash", description: "run", input_schema: { type: "object", properties: {} } }],
      }),
    });
    expect(res.status).toBe(200);
    const message = (await res.json()) as Anthropic.Message;
    expect([message.model, message.stop_reason]).toEqual(["any-model-name", "end_turn"]);
    expect(message.content).toEqual([{ type: "text", text: "whole answer" }] as never);
    expect(fake.modelRequests[before]!.search).toBe("?beta=true");
    expect((fake.modelRequests[before]!.body as { tools: unknown[] }).tools).toHaveLength(1);
  });

  test("count_tokens and models answer; unknown endpoints are recorded and get a 404", async () => {
    const counted = await client.messages.countTokens({ model: "m", messages: [{ role: "user", content: "x".repeat(400) }] });
    expect(counted.input_tokens).toBeGreaterThan(100);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"]);
    const unknownBefore = fake.unknownRequests.length;
    const res = await fetch(`${fake.origin}/v1/nope?x=1`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    expect(fake.unknownRequests.slice(unknownBefore).map((r) => `${r.method} ${r.path}${r.search}`)).toEqual(["POST /v1/nope?x=1"]);
  });

  test("a default behaviour function sees each request", async () => {
    fake.setDefault((req) => ({ kind: "stream", chunks: [`echo:${(req.body as { model: string }).model}`] }));
    const message = await client.messages.create({ model: "echo-me", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(message.content).toMatchObject([{ type: "text", text: "echo:echo-me" }]);
    fake.setDefault({ kind: "stream", chunks: ["Hello", " from", " the", " fake."] });
  });

  test("sent chunks are stamped in order, after the request arrived", async () => {
    const gate = createGate();
    fake.enqueue({ kind: "stream", chunks: ["a", "b", "c"], gate });
    const request = fake.modelRequests.length;
    const stream = await client.messages.create({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }], stream: true });
    gate.release(3);
    for await (const _ of stream) {
      // drain
    }
    const sent = fake.sent.filter((s) => s.request === request);
    expect(sent.map((s) => [s.index, s.text])).toEqual([
      [0, "a"],
      [1, "b"],
      [2, "c"],
    ]);
    expect(sent[0]!.at).toBeGreaterThanOrEqual(fake.modelRequests[request]!.at);
    expect(sent[1]!.at).toBeGreaterThanOrEqual(sent[0]!.at);
    expect(sent[2]!.at).toBeGreaterThanOrEqual(sent[1]!.at);
  });
});

describe("fake OpenAI", () => {
  let fake: FakeModelServer;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(() => fake.stop());

  test("usage chunk only when the request asks for it, as the real API does", async () => {
    const client = new OpenAI({ apiKey: "k", baseURL: fake.url, maxRetries: 0 });
    const run = async (includeUsage: boolean) => {
      const stream = await client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const usages: unknown[] = [];
      for await (const chunk of stream) if (chunk.usage) usages.push(chunk.usage);
      return usages;
    };
    expect(await run(false)).toEqual([]);
    expect(await run(true)).toEqual([
      { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16, prompt_tokens_details: { cached_tokens: 0 } },
    ]);
  });
});

describe("Gate", () => {
  test("a waiter that gave up on abort does not spend a later permit", async () => {
    const gate = createGate();
    const gaveUp = new AbortController();
    const reason = new Error("client gone");
    const abandoned = gate.wait(gaveUp.signal);
    gaveUp.abort(reason);
    expect(await abandoned.catch((e: unknown) => e)).toBe(reason);
    const next = gate.wait(new AbortController().signal);
    gate.release();
    expect(await next).toBeUndefined();
    expect(gate.released).toBe(1);
  });
});
