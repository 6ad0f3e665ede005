// The rows of the API provider contract suite (api-contract.test.ts): how to start each API's fake
// and how to read back what a request actually asked for. A new API provider is a new row here.
import { createAnthropicProvider } from "../../src/providers/api/anthropic.ts";
import { createGoogleProvider } from "../../src/providers/api/google.ts";
import { createOpenAIProvider } from "../../src/providers/api/openai.ts";
import type { Provider } from "../../src/providers/types.ts";
import { startFakeAnthropic } from "../helpers/fake-anthropic.ts";
import { startFakeGoogle } from "../helpers/fake-google.ts";
import type { FakeModelServer, RecordedRequest } from "../helpers/fake-model-server.ts";
import { startFakeOpenAI } from "../helpers/fake-openai.ts";

export interface SentSettings {
  model: string | undefined;
  system: unknown;
  prompt: unknown;
  maxTokens: unknown;
  temperature: unknown;
}

export interface ContractRow {
  name: "anthropic" | "openai" | "openai-compatible" | "google";
  start(): Promise<FakeModelServer>;
  provider(): Provider;
  keyEnv: string;
  keyRequired: boolean;
  /** the model used when the stage names none; null: the provider requires one */
  defaultModel: string | null;
  /** what the request actually asked for, read from the recorded HTTP request */
  sent(req: RecordedRequest): SentSettings;
  /** the API key as it travelled */
  sentKey(req: RecordedRequest): string | undefined;
  sseError: { errorType: string; status: number };
}

type Body = Record<string, any>;
const bodyOf = (req: RecordedRequest) => req.body as Body;
const bearer = (req: RecordedRequest) => req.headers.authorization?.replace(/^Bearer /, "");

const openaiSent = (req: RecordedRequest): SentSettings => {
  const b = bodyOf(req);
  return {
    model: b.model,
    system: b.messages.find((m: Body) => m.role === "system")?.content,
    prompt: b.messages.find((m: Body) => m.role === "user")?.content,
    maxTokens: b.max_completion_tokens ?? b.max_tokens,
    temperature: b.temperature,
  };
};

export const CONTRACT_ROWS: ContractRow[] = [
  {
    name: "anthropic",
    start: () => startFakeAnthropic(),
    provider: createAnthropicProvider,
    keyEnv: "ANTHROPIC_API_KEY",
    keyRequired: true,
    defaultModel: "claude-haiku-4-5",
    sent: (req) => {
      const b = bodyOf(req);
      return { model: b.model, system: b.system, prompt: b.messages[0].content, maxTokens: b.max_tokens, temperature: b.temperature };
    },
    // SDK 1.13 sends an apiKey as a bearer token; older ones used x-api-key.
    sentKey: (req) => req.headers["x-api-key"] ?? bearer(req),
    sseError: { errorType: "overloaded_error", status: 529 },
  },
  {
    name: "openai",
    start: () => startFakeOpenAI(),
    provider: () => createOpenAIProvider("openai"),
    keyEnv: "OPENAI_API_KEY",
    keyRequired: true,
    defaultModel: "gpt-4o-mini",
    sent: openaiSent,
    sentKey: bearer,
    sseError: { errorType: "overloaded_error", status: 529 },
  },
  {
    name: "openai-compatible",
    start: () => startFakeOpenAI(),
    provider: () => createOpenAIProvider("openai-compatible"),
    keyEnv: "OPENAI_API_KEY",
    keyRequired: false,
    defaultModel: null,
    sent: openaiSent,
    sentKey: bearer,
    sseError: { errorType: "server_error", status: 500 },
  },
  {
    name: "google",
    start: () => startFakeGoogle(),
    provider: createGoogleProvider,
    keyEnv: "GOOGLE_GENERATIVE_AI_API_KEY",
    keyRequired: true,
    defaultModel: "gemini-2.5-flash",
    sent: (req) => {
      const b = bodyOf(req);
      return {
        model: /\/models\/([^:]+):/.exec(req.path)?.[1],
        system: b.systemInstruction?.parts?.[0]?.text,
        prompt: b.contents[0].parts[0].text,
        maxTokens: b.generationConfig?.maxOutputTokens,
        temperature: b.generationConfig?.temperature,
      };
    },
    sentKey: (req) => req.headers["x-goog-api-key"],
    sseError: { errorType: "UNAVAILABLE", status: 503 },
  },
];

