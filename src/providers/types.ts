// The one contract every model source meets: API models, agent CLIs and the local model alike.
// A provider turns a request into an async iterable of deltas; it throws StagecastError subclasses
// (src/core/errors.ts) so the stage runner can decide on retries by type.
import type { ModelConfig } from "../protocol/pipeline.ts";
import type { Usage } from "../protocol/events.ts";

export type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";

export type Delta =
  /** Text as it arrives, in order. Never empty. */
  | { type: "text"; text: string }
  /** Token usage so far (cumulative: the latest one wins). */
  | { type: "usage"; usage: Usage }
  /** The last delta of a successful call. `costUsd` when the tool reports its own cost (agent CLIs). */
  | { type: "finish"; reason: FinishReason; usage?: Usage; costUsd?: number };

/** A stage's model settings after the pipeline's defaults are merged in; `provider` is always set. */
export type ResolvedModelConfig = ModelConfig;

export interface ModelRequest {
  model: ResolvedModelConfig;
  system?: string;
  prompt: string;
  /** Working directory for agent CLIs (a per-run temp dir unless the stage sets one). */
  cwd?: string;
}

export interface StreamOptions {
  /** Aborted on cancel or timeout: the provider must stop the in-flight call at once. */
  signal: AbortSignal;
}

export interface Provider {
  readonly id: string;
  stream(request: ModelRequest, options: StreamOptions): AsyncIterable<Delta>;
}
