// A fake Anthropic Messages API speaking the real SSE wire format (`event:` + `data:` lines:
// message_start, content_block_start, ping, content_block_delta/text_delta, content_block_stop,
// message_delta with usage, message_stop; `event: error` mid-stream). Answers any model name and
// any request body (tools included), so the real Claude Code CLI can run against it.
//
//   const fake = await startFakeAnthropic();
//   process.env.ANTHROPIC_BASE_URL = fake.url;   // the server root, e.g. http://127.0.0.1:PORT
//
// Endpoints: POST /v1/messages (streaming when body.stream is true, else a whole JSON message;
// any query string, e.g. ?beta=true, is accepted), POST /v1/messages/count_tokens (a rough
// count), GET /v1/models[/id]. Anything else is recorded in `unknownRequests` and answered 404
// with an Anthropic-shaped error. Behaviours and the rest of the API: see fake-model-server.ts.
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

const STOP: Record<FakeStopReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  "tool-calls": "tool_use",
  "content-filter": "refusal",
  "stop-sequence": "stop_sequence",
};

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

function modelOf(body: unknown): string {
  const model = body && typeof body === "object" ? (body as { model?: unknown }).model : undefined;
  return typeof model === "string" && model ? model : "claude-fake";
}

function usageJson(usage: FakeUsage, outputTokens: number) {
  return {
    input_tokens: usage.inputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens ?? 0,
    cache_read_input_tokens: usage.cacheReadTokens ?? 0,
    output_tokens: outputTokens,
  };
}

export const anthropicWire: WireFormat = {
  name: "anthropic",
  baseUrl: (origin) => origin,
  route(method, path, _search, body) {
    if (method === "POST" && path === "/v1/messages") {
      const stream = !!body && typeof body === "object" && (body as { stream?: unknown }).stream === true;
      return { kind: "model", model: modelOf(body), stream };
    }
    if (method === "POST" && path === "/v1/messages/count_tokens") {
      // Roughly four characters per token, like the real tokenizer on English text.
      const size = JSON.stringify(body ?? "").length;
      return { kind: "response", response: Response.json({ input_tokens: Math.max(1, Math.ceil(size / 4)) }) };
    }
    if (method === "GET" && path.startsWith("/v1/models")) {
      const id = path.slice("/v1/models/".length);
      const info = (name: string) => ({
        type: "model",
        id: name,
        display_name: name,
        created_at: "2025-01-01T00:00:00Z",
      });
      if (id) return { kind: "response", response: Response.json(info(decodeURIComponent(id))) };
      const data = ["claude-haiku-4-5", "claude-sonnet-4-5", "claude-opus-4-1"].map(info);
      return {
        kind: "response",
        response: Response.json({ data, has_more: false, first_id: data[0]?.id, last_id: data.at(-1)?.id }),
      };
    }
    return null;
  },
  start(ctx: StreamContext) {
    return [
      sse(
        {
          type: "message_start",
          message: {
            id: `msg_${ctx.id}`,
            type: "message",
            role: "assistant",
            model: ctx.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            // The real API reports input and cache tokens here and a placeholder output count.
            usage: usageJson(ctx.usage, 1),
          },
        },
        "message_start",
      ),
      sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, "content_block_start"),
      sse({ type: "ping" }, "ping"),
    ];
  },
  chunk(_ctx, text) {
    return sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }, "content_block_delta");
  },
  finish(_ctx, usage, stopReason) {
    return [
      sse({ type: "content_block_stop", index: 0 }, "content_block_stop"),
      sse(
        {
          type: "message_delta",
          delta: { stop_reason: STOP[stopReason], stop_sequence: null },
          usage: usageJson(usage, usage.outputTokens),
        },
        "message_delta",
      ),
      sse({ type: "message_stop" }, "message_stop"),
    ];
  },
  streamError(_ctx, errorType, message) {
    return sse({ type: "error", error: { type: errorType, message } }, "error");
  },
  whole(ctx, text, usage, stopReason) {
    return {
      id: `msg_${ctx.id}`,
      type: "message",
      role: "assistant",
      model: ctx.model,
      content: [{ type: "text", text }],
      stop_reason: STOP[stopReason],
      stop_sequence: null,
      usage: usageJson(usage, usage.outputTokens),
    };
  },
  errorBody(status, message) {
    return { type: "error", error: { type: ERROR_TYPES[status] ?? "api_error", message } };
  },
};

export function startFakeAnthropic(opts?: FakeServerOptions): Promise<FakeModelServer> {
  return startFakeServer(anthropicWire, opts);
}
