// A fake OpenAI Chat Completions API (and any OpenAI-compatible server: Ollama, vLLM, …) speaking
// the real wire format: `data: {chat.completion.chunk}` lines — a role chunk, one chunk per text
// delta, a chunk with finish_reason, a usage chunk (only when the request asks for it with
// stream_options.include_usage, as the real API does), then `data: [DONE]`.
//
//   const fake = await startFakeOpenAI();
//   new OpenAI({ baseURL: fake.url, apiKey: "k" });   // fake.url = http://127.0.0.1:PORT/v1
//
// Endpoints: POST /v1/chat/completions (streaming when body.stream is true), GET /v1/models.
// Others are recorded in `unknownRequests` and answered 404. Behaviours: see fake-model-server.ts;
// `sse-error` sends `data: {"error": {...}}`, which is how OpenAI-style servers report a failure
// mid-stream.
import {
  type FakeModelServer,
  type FakeServerOptions,
  type FakeStopReason,
  type FakeUsage,
  type StreamContext,
  type WireFormat,
  sse,
  startFakeServer,
} from "./fake-model-server.ts";

export * from "./fake-model-server.ts";

const FINISH: Record<FakeStopReason, string> = {
  stop: "stop",
  length: "length",
  "tool-calls": "tool_calls",
  "content-filter": "content_filter",
  "stop-sequence": "stop",
};

const CREATED = 1_760_000_000;

function usageJson(usage: FakeUsage) {
  return {
    // OpenAI counts cached prompt tokens inside prompt_tokens.
    prompt_tokens: usage.inputTokens + (usage.cacheReadTokens ?? 0),
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + (usage.cacheReadTokens ?? 0) + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens ?? 0 },
  };
}

function chunk(ctx: StreamContext, delta: Record<string, unknown>, finishReason: string | null) {
  return {
    id: `chatcmpl-${ctx.id}`,
    object: "chat.completion.chunk",
    created: CREATED,
    model: ctx.model,
    system_fingerprint: "fp_fake",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

export const openaiWire: WireFormat = {
  name: "openai",
  baseUrl: (origin) => `${origin}/v1`,
  route(method, path, _search, body) {
    if (method === "POST" && path === "/v1/chat/completions") {
      const b = (body && typeof body === "object" ? body : {}) as { model?: unknown; stream?: unknown };
      return { kind: "model", model: typeof b.model === "string" ? b.model : "gpt-fake", stream: b.stream === true };
    }
    if (method === "GET" && path === "/v1/models") {
      const data = ["gpt-4o-mini", "gpt-4o"].map((id) => ({ id, object: "model", created: CREATED, owned_by: "fake" }));
      return { kind: "response", response: Response.json({ object: "list", data }) };
    }
    return null;
  },
  start(ctx) {
    return [sse(chunk(ctx, { role: "assistant", content: "" }, null))];
  },
  chunk(ctx, text) {
    return sse(chunk(ctx, { content: text }, null));
  },
  finish(ctx, usage, stopReason) {
    const events = [sse(chunk(ctx, {}, FINISH[stopReason]))];
    const options = ctx.body.stream_options as { include_usage?: unknown } | undefined;
    if (options?.include_usage === true) {
      // The real API's usage chunk: the same envelope, no choices.
      events.push(sse({ ...chunk(ctx, {}, null), choices: [], usage: usageJson(usage) }));
    }
    events.push(sse("[DONE]"));
    return events;
  },
  streamError(_ctx, errorType, message) {
    return sse({ error: { message, type: errorType, param: null, code: errorType } });
  },
  whole(ctx, text, usage, stopReason) {
    return {
      id: `chatcmpl-${ctx.id}`,
      object: "chat.completion",
      created: CREATED,
      model: ctx.model,
      choices: [
        { index: 0, message: { role: "assistant", content: text }, logprobs: null, finish_reason: FINISH[stopReason] },
      ],
      usage: usageJson(usage),
    };
  },
  errorBody(status, message) {
    const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
    return { error: { message, type, param: null, code: null } };
  },
};

export function startFakeOpenAI(opts?: FakeServerOptions): Promise<FakeModelServer> {
  return startFakeServer(openaiWire, opts);
}
