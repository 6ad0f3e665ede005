// Anthropic Messages API through the official SDK, streamed. The SDK parses the SSE; we map its
// events to deltas and its errors to ours (errors.ts). Retries belong to the engine, so the SDK's
// own are off: each engine attempt is one fresh HTTP call.
import Anthropic from "@anthropic-ai/sdk";
import type { RawMessageStreamEvent } from "@anthropic-ai/sdk/resources/messages";
import type { Usage } from "../../protocol/events.ts";
import type { Delta, FinishReason, ModelRequest, Provider, StreamOptions } from "../types.ts";
import { DEFAULT_MAX_TOKENS, DEFAULT_MODELS, apiKeyFrom } from "./config.ts";
import { streamCutError, toProviderError } from "./errors.ts";

export const ANTHROPIC_DEFAULT_MODEL = DEFAULT_MODELS.anthropic;

export function mapAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool-calls";
    case "refusal":
      return "content-filter";
    default:
      return "other";
  }
}

export function createAnthropicProvider(): Provider {
  return {
    id: "anthropic",
    stream(request, options) {
      return streamAnthropic(request, options);
    },
  };
}

async function* streamAnthropic(request: ModelRequest, { signal }: StreamOptions): AsyncGenerator<Delta> {
  const { model } = request;
  const apiKey = apiKeyFrom("anthropic", model.apiKeyEnv ?? "ANTHROPIC_API_KEY", true);
  signal.throwIfAborted();
  const client = new Anthropic({
    apiKey,
    baseURL: model.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? null,
    maxRetries: 0,
  });

  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let stopReason: string | null | undefined;
  let finished = false;
  try {
    const stream = await client.messages.create(
      {
        model: model.model ?? ANTHROPIC_DEFAULT_MODEL,
        max_tokens: model.maxTokens ?? DEFAULT_MAX_TOKENS,
        ...(model.temperature !== undefined ? { temperature: model.temperature } : {}),
        ...(request.system ? { system: request.system } : {}),
        messages: [{ role: "user", content: request.prompt }],
        stream: true,
      },
      { signal },
    );
    for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
      switch (event.type) {
        case "message_start": {
          const u = event.message.usage;
          usage.inputTokens = u.input_tokens;
          usage.outputTokens = u.output_tokens;
          if (u.cache_read_input_tokens) usage.cacheReadTokens = u.cache_read_input_tokens;
          if (u.cache_creation_input_tokens) usage.cacheWriteTokens = u.cache_creation_input_tokens;
          yield { type: "usage", usage: { ...usage } };
          break;
        }
        case "content_block_delta":
          if (event.delta.type === "text_delta" && event.delta.text) yield { type: "text", text: event.delta.text };
          break;
        case "message_delta": {
          // message_delta's usage is cumulative; input/cache fields appear only on newer API versions.
          const u = event.usage;
          usage.outputTokens = u.output_tokens;
          if (u.input_tokens != null) usage.inputTokens = u.input_tokens;
          if (u.cache_read_input_tokens) usage.cacheReadTokens = u.cache_read_input_tokens;
          if (u.cache_creation_input_tokens) usage.cacheWriteTokens = u.cache_creation_input_tokens;
          stopReason = event.delta.stop_reason;
          yield { type: "usage", usage: { ...usage } };
          break;
        }
        case "message_stop":
          finished = true;
          break;
      }
    }
  } catch (err) {
    throw toProviderError("anthropic", err, signal);
  }
  // The SDK ends its iteration quietly when the signal aborts mid-stream, and so does a body
  // that simply stops; neither is a finished answer.
  signal.throwIfAborted();
  if (!finished) throw streamCutError("anthropic", "message_stop");
  yield { type: "finish", reason: mapAnthropicStopReason(stopReason), usage: { ...usage } };
}
