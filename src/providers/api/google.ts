// Google Gemini through the Vercel AI SDK (`streamText` + @ai-sdk/google). The AI SDK reports
// failures as `error` parts inside fullStream rather than throwing, and an aborted call as an
// `abort` part; both are turned back into throws here. SDK retries are off: the engine retries.
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { streamText } from "ai";
import type { Usage } from "../../protocol/events.ts";
import type { Delta, FinishReason, ModelRequest, Provider, StreamOptions } from "../types.ts";
import { DEFAULT_MAX_TOKENS, DEFAULT_MODELS, apiKeyFrom } from "./config.ts";
import { streamCutError, toProviderError } from "./errors.ts";

export const GOOGLE_DEFAULT_MODEL = DEFAULT_MODELS.google;

export function createGoogleProvider(): Provider {
  return {
    id: "google",
    stream(request, options) {
      return streamGoogle(request, options);
    },
  };
}

interface SdkUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  inputTokenDetails?: { noCacheTokens?: number | undefined; cacheReadTokens?: number | undefined; cacheWriteTokens?: number | undefined };
}

function toUsage(u: SdkUsage): Usage {
  const cacheRead = u.inputTokenDetails?.cacheReadTokens ?? 0;
  const cacheWrite = u.inputTokenDetails?.cacheWriteTokens ?? 0;
  // The AI SDK's inputTokens include cached ones; ours are disjoint so each gets its own price.
  return {
    inputTokens: Math.max(0, (u.inputTokens ?? 0) - cacheRead - cacheWrite),
    outputTokens: u.outputTokens ?? 0,
    ...(cacheRead ? { cacheReadTokens: cacheRead } : {}),
    ...(cacheWrite ? { cacheWriteTokens: cacheWrite } : {}),
  };
}

async function* streamGoogle(request: ModelRequest, { signal }: StreamOptions): AsyncGenerator<Delta> {
  const { model } = request;
  const apiKey = apiKeyFrom("google", model.apiKeyEnv ?? "GOOGLE_GENERATIVE_AI_API_KEY", true);
  signal.throwIfAborted();
  const google = createGoogleGenerativeAI({ apiKey, ...(model.baseURL ? { baseURL: model.baseURL } : {}) });
  const result = streamText({
    model: google(model.model ?? GOOGLE_DEFAULT_MODEL),
    ...(request.system ? { instructions: request.system } : {}),
    prompt: request.prompt,
    maxOutputTokens: model.maxTokens ?? DEFAULT_MAX_TOKENS,
    ...(model.temperature !== undefined ? { temperature: model.temperature } : {}),
    maxRetries: 0,
    abortSignal: signal,
    // Errors arrive as fullStream parts and are rethrown below; the default handler would also log them.
    onError: () => {},
  });

  let finish: { reason: FinishReason | "interrupted"; usage: Usage } | undefined;
  try {
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "text-delta":
          if (part.text) yield { type: "text", text: part.text };
          break;
        case "finish-step":
          yield { type: "usage", usage: toUsage(part.usage) };
          break;
        case "finish":
          finish = { reason: part.finishReason, usage: toUsage(part.totalUsage) };
          break;
        case "error":
          throw part.error;
        case "abort":
          signal.throwIfAborted();
          throw new DOMException(part.reason ?? "aborted", "AbortError");
      }
    }
  } catch (err) {
    throw toProviderError("google", err, signal);
  }
  signal.throwIfAborted();
  // "interrupted": the SSE body ended before any chunk carried a finishReason.
  if (!finish || finish.reason === "interrupted") throw streamCutError("google", "a finishReason");
  yield { type: "finish", reason: finish.reason, usage: finish.usage };
}
