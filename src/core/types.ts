// The engine's public surface: what the CLI renderer and the server's ExecutionManager build on.
import type { CliTool, PipelineConfig } from "../protocol/pipeline.ts";
import type { ExecutionSummary, StageRef, StageResult, WireEvent } from "../protocol/events.ts";
import type { Provider, ResolvedModelConfig } from "../providers/types.ts";
import type { StagecastError } from "./errors.ts";

export type RunMode = "api" | "cli" | "local";

export interface RunOverrides {
  /** Run every stage on this kind of model (ARCHITECTURE: `--mode api|cli|local`). */
  mode?: RunMode;
  /** With mode cli (or alone, implying it): which agent CLI. */
  tool?: CliTool;
}

export type StageOutcome =
  | { status: "pending" }
  | { status: "completed"; output: string; data: unknown; result: StageResult }
  | { status: "skipped"; reason: string }
  | { status: "failed"; output: string; error: StagecastError }
  | { status: "cancelled"; output: string };

export type ExecutionOutcomeStatus = "success" | "early_exit" | "failed" | "cancelled";

export interface ExecutionOutcome {
  executionId: string;
  status: ExecutionOutcomeStatus;
  stages: Record<string, StageOutcome>;
  summary: ExecutionSummary;
  /** why the run failed or was cancelled */
  error?: string;
  startedAt: number;
  endedAt: number;
}

export interface ExecutorCallbacks {
  onPipelineStart?(info: { executionId: string; pipeline: PipelineConfig; input: string; stages: StageRef[] }): void;
  onStageStart?(stage: StageRef, index: number, total: number): void;
  /** Coalesced chunks, exactly as sent in `stage:output` events; `offset` in UTF-16 code units. */
  onStageOutput?(stage: StageRef, chunk: string, isFinal: boolean, offset: number): void;
  onStageRetrying?(stage: StageRef, attempt: number, error: StagecastError, delayMs: number): void;
  onStageComplete?(stage: StageRef, result: StageResult, output: string, data: unknown): void;
  onStageSkipped?(stage: StageRef, reason: string): void;
  onStageFailed?(stage: StageRef, error: StagecastError): void;
  onPipelineComplete?(outcome: ExecutionOutcome): void;
  /** Every wire event, stamped with executionId/seq/ts, in seq order. */
  onEvent?(event: WireEvent): void;
}

export type ProviderResolver = (model: ResolvedModelConfig) => Provider | Promise<Provider>;

export interface ExecutorOptions {
  input: string;
  /** default: crypto.randomUUID() */
  executionId?: string;
  /** Cancels the run: the in-flight model call stops at once. */
  signal?: AbortSignal;
  callbacks?: ExecutorCallbacks;
  overrides?: RunOverrides;
  /** default: the built-in provider registry (src/providers/registry.ts) */
  resolveProvider?: ProviderResolver;
  /** Output coalescing: first chunk at once, then every `intervalMs` or when `flushBytes` are pending. */
  coalesce?: { intervalMs?: number; flushBytes?: number };
  /** Working directory for agent-CLI stages; default a temp dir made for the run and removed after. */
  workDir?: string;
  /** Base delay for retry backoff (ms); tests shorten it. */
  retryBaseDelayMs?: number;
  /** Values (API keys) masked out of everything the run emits, even when cut between deltas. */
  secrets?: readonly string[];
}
