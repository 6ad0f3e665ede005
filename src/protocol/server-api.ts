// The dashboard server's messages and REST shapes (ARCHITECTURE.md "REST" and "WebSocket /ws"),
// declared once for the server and the browser. Runtime-agnostic: no Bun or Node imports.
import { z } from "zod";
import type { ExecutionStatus, StageResult, StageStatus, Usage, WireEvent } from "./events.ts";

/** Client → server over /ws. */
export const ClientMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("subscribe"),
    executionId: z.string().min(1),
    /** the last seq the client has seen; default 0 */
    since: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal("unsubscribe"), executionId: z.string().min(1) }),
  z.object({ type: z.literal("watch-executions") }),
  z.object({ type: z.literal("ping") }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
/** Read off the schema, so a new message type cannot be missed here. */
export const CLIENT_MESSAGE_TYPES: readonly ClientMessage["type"][] = ClientMessageSchema.options.map((o) => o.shape.type.value);

/** `POST /api/pipelines/:id/run`'s body. Only agent CLIs as `tool`: `command` runs an argv from a pipeline file, so never from a request. */
export const RunRequestSchema = z.strictObject({
  input: z.string({ error: "input must be a string" }),
  mode: z.enum(["api", "cli", "local"]).optional(),
  tool: z.enum(["claude", "opencode", "gemini"]).optional(),
});
export type RunRequest = z.infer<typeof RunRequestSchema>;

/** One row of `GET /api/executions` and of the `executions` message. */
export interface ExecutionListItem {
  id: string;
  pipelineId: string;
  pipelineName: string;
  status: ExecutionStatus;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  lastSeq: number;
  /** why it failed, was cancelled or interrupted */
  error: string | null;
  /** 1-based place in the queue while queued, else null */
  queuePosition: number | null;
}

export interface StageSnapshot {
  id: string;
  name: string;
  type: string;
  status: StageStatus;
  startedAt: number | null;
  endedAt: number | null;
  cost: number | null;
  usage: Usage | null;
  error: string | null;
  /** why the stage was skipped */
  reason: string | null;
  /** the stage's text, or its tail when the execution's held output passed 100 KB */
  output: string;
  /** the full output's length in UTF-16 code units (as `offset`) */
  outputLength: number;
  outputTruncated: boolean;
  /** the stage's model source (anthropic, local, cli, …), once the execution has started */
  provider?: string;
  /** a short label of the model, once the execution has started */
  model?: string;
  /** the `stage:completed` event's result (time to first token, cost source …), once the stage has completed */
  result?: StageResult;
}

/** `GET /api/executions/:id`: the state as of `lastSeq`; subscribe with `since: lastSeq` to follow on. */
export interface ExecutionSnapshot {
  id: string;
  pipelineId: string;
  pipelineName: string;
  status: ExecutionStatus;
  input: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  lastSeq: number;
  error: string | null;
  stages: StageSnapshot[];
}

/** Codes of `{type: "error"}` on /ws. `slow_consumer`: resubscribe with `since` = the last seq received. */
export type WsErrorCode = "bad_json" | "bad_message" | "unknown_type" | "execution_not_found" | "not_subscribed" | "slow_consumer";

/** Server → client over /ws. */
export type ServerMessage =
  | WireEvent
  | { type: "subscribed"; executionId: string; lastSeq: number }
  | { type: "executions"; executions: ExecutionListItem[] }
  | { type: "error"; code: WsErrorCode; message: string; executionId?: string }
  | { type: "pong" };

/** `GET /api/executions`: one page, newest first; `total` counts every match (for paging). */
export interface ExecutionListResponse {
  executions: ExecutionListItem[];
  total: number;
}

/** Every REST error body. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
