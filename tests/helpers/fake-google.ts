// A fake Gemini API (generativelanguage v1beta) speaking the real wire format of
// `models/{model}:streamGenerateContent?alt=sse`: data-only SSE lines, each a
// GenerateContentResponse with the text part, usageMetadata, and on the last one finishReason.
//
//   const fake = await startFakeGoogle();
//   createGoogleGenerativeAI({ baseURL: fake.url, apiKey: "k" });   // fake.url = http://127.0.0.1:PORT/v1beta
//
// Endpoints: POST /v1beta/models/{model}:streamGenerateContent (?alt=sse) and :generateContent.
// Others are recorded in `unknownRequests` and answered 404 in Google's error format. Behaviours:
// see fake-model-server.ts; `sse-error` sends `data: {"error": {code, message, status}}` as Gemini
// does mid-stream (errorType is the gRPC status, e.g. "UNAVAILABLE"; "overloaded_error" maps to it).
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
  stop: "STOP",
  length: "MAX_TOKENS",
  // Gemini reports STOP with a functionCall part; the fake sends text only, so STOP it is.
  "tool-calls": "STOP",
  "content-filter": "SAFETY",
  "stop-sequence": "STOP",
};

const STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const CODE: Record<string, number> = Object.fromEntries(Object.entries(STATUS).map(([code, s]) => [s, Number(code)]));

function usageJson(usage: FakeUsage, outputTokens: number) {
  return {
    // Gemini counts cached tokens inside promptTokenCount.
    promptTokenCount: usage.inputTokens + (usage.cacheReadTokens ?? 0),
    candidatesTokenCount: outputTokens,
    totalTokenCount: usage.inputTokens + (usage.cacheReadTokens ?? 0) + outputTokens,
    ...(usage.cacheReadTokens ? { cachedContentTokenCount: usage.cacheReadTokens } : {}),
  };
}

function response(ctx: StreamContext, text: string, outputTokens: number, finishReason?: string) {
  return {
    candidates: [
      {
        content: { parts: [{ text }], role: "model" },
        ...(finishReason ? { finishReason } : {}),
        index: 0,
      },
    ],
    usageMetadata: usageJson(ctx.usage, outputTokens),
    modelVersion: ctx.model,
    responseId: `resp_${ctx.id}`,
  };
}

const MODEL_PATH = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;

export const googleWire: WireFormat = {
  name: "google",
  baseUrl: (origin) => `${origin}/v1beta`,
  route(method, path, search) {
    const match = method === "POST" ? MODEL_PATH.exec(path) : null;
    if (!match) return null;
    const stream = match[2] === "streamGenerateContent";
    if (stream && search.get("alt") !== "sse") {
      // Without alt=sse the real API streams a JSON array; no client we use asks for that.
      return null;
    }
    return { kind: "model", model: decodeURIComponent(match[1] ?? ""), stream };
  },
  start() {
    return [];
  },
  chunk(ctx, text, index) {
    return sse(response(ctx, text, index + 1));
  },
  finish(ctx, usage, stopReason) {
    // The real API puts finishReason (and the final usage) on the last chunk, often with an empty text part.
    return [sse(response(ctx, "", usage.outputTokens, FINISH[stopReason]))];
  },
  streamError(_ctx, errorType, message) {
    const status = errorType === "overloaded_error" ? "UNAVAILABLE" : errorType;
    return sse({ error: { code: CODE[status] ?? 500, message, status } });
  },
  whole(ctx, text, usage, stopReason) {
    return response({ ...ctx, usage }, text, usage.outputTokens, FINISH[stopReason]);
  },
  errorBody(status, message) {
    return { error: { code: status, message, status: STATUS[status] ?? (status >= 500 ? "INTERNAL" : "UNKNOWN") } };
  },
};

export function startFakeGoogle(opts?: FakeServerOptions): Promise<FakeModelServer> {
  return startFakeServer(googleWire, opts);
}
