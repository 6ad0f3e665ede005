// OpenAI Chat Completions (and any OpenAI-style server: Ollama, vLLM, LM Studio, llama.cpp server,
// OpenRouter) through the official SDK, streamed with usage. SDK retries are off: the engine retries.
import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { ProviderConfigError } from "../../core/errors.ts";
import type { Usage } from "../../protocol/events.ts";
import type { Delta, FinishReason, ModelRequest, Provider, StreamOptions } from "../types.ts";
import { DEFAULT_MAX_TOKENS, DEFAULT_MODELS, apiKeyFrom } from "./config.ts";
import { streamCutError, toProviderError } from "./errors.ts";

export type OpenAIKind = "openai" | "openai-compatible";

export const OPENAI_DEFAULT_MODEL = DEFAULT_MODELS.openai;
/** Local servers (Ollama, llama.cpp) ignore the key but the SDK insists on one. */
const PLACEHOLDER_KEY = "not-needed";

export function mapOpenAIFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool-calls";
    case "content_filter":
      return "content-filter";
    default:
      return "other";
  }
}

export function createOpenAIProvider(kind: OpenAIKind): Provider {
  return {
    id: kind,
    stream(request, options) {
      return streamOpenAI(kind, request, options);
    },
  };
}

function settings(kind: OpenAIKind, request: ModelRequest) {
  const { model } = request;
  const baseURL = model.baseURL ?? process.env.OPENAI_BASE_URL;
  if (kind === "openai-compatible") {
    if (!baseURL) {
      throw new ProviderConfigError(
        "openai-compatible: no server URL: set the stage's model.baseURL (e.g. http://127.0.0.1:11434/v1) or OPENAI_BASE_URL",
      );
    }
    if (!model.model) {
      throw new ProviderConfigError("openai-compatible: no model name: set the stage's model.model (e.g. llama3)");
    }
    const apiKey = apiKeyFrom(kind, model.apiKeyEnv ?? "OPENAI_API_KEY", false) ?? PLACEHOLDER_KEY;
    return { baseURL, apiKey, modelName: model.model };
  }
  const apiKey = apiKeyFrom(kind, model.apiKeyEnv ?? "OPENAI_API_KEY", true);
  return { baseURL, apiKey, modelName: model.model ?? OPENAI_DEFAULT_MODEL };
}

async function* streamOpenAI(kind: OpenAIKind, request: ModelRequest, { signal }: StreamOptions): AsyncGenerator<Delta> {
  const { baseURL, apiKey, modelName } = settings(kind, request);
  signal.throwIfAborted();
  const client = new OpenAI({ apiKey, baseURL: baseURL ?? null, maxRetries: 0 });
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: "system", content: request.system });
  messages.push({ role: "user", content: request.prompt });
  const maxTokens = request.model.maxTokens ?? DEFAULT_MAX_TOKENS;
  const body: ChatCompletionCreateParamsStreaming = {
    model: modelName,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    // OpenAI's reasoning models accept only max_completion_tokens; many compatible servers only max_tokens.
    ...(kind === "openai" ? { max_completion_tokens: maxTokens } : { max_tokens: maxTokens }),
    ...(request.model.temperature !== undefined ? { temperature: request.model.temperature } : {}),
  };

  let usage: Usage | undefined;
  let finishReason: string | null | undefined;
  try {
    const stream = await client.chat.completions.create(body, { signal });
    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      const choice = chunk.choices[0];
      const text = choice?.delta?.content;
      if (text) yield { type: "text", text };
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) {
        const cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
        // OpenAI counts cached tokens inside prompt_tokens; ours are disjoint so each gets its own price.
        usage = {
          inputTokens: chunk.usage.prompt_tokens - cached,
          outputTokens: chunk.usage.completion_tokens,
          ...(cached ? { cacheReadTokens: cached } : {}),
        };
        yield { type: "usage", usage };
      }
    }
  } catch (err) {
    throw toProviderError(kind, err, signal);
  }
  // The SDK ends quietly on abort and on a body that just stops; only a finish_reason means done.
  signal.throwIfAborted();
  if (!finishReason) throw streamCutError(kind, "a finish_reason");
  yield { type: "finish", reason: mapOpenAIFinishReason(finishReason), ...(usage ? { usage } : {}) };
}
