// Wire events: declared once here, shared by the engine, the CLI (`run --json`), the server and the browser.
// The shapes are fixed by ARCHITECTURE.md ("Wire events"); fields may be added, never reshaped.
import { z } from "zod";

/** Largest `stage:output` chunk, in UTF-8 bytes. */
export const MAX_CHUNK_BYTES = 4096;

export const StageRefSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  /** the stage's model source (anthropic, local, cli, …) after defaults and --mode/--tool */
  provider: z.string().optional(),
  /** a short label of the model: its name, the agent CLI's tool, or the GGUF file */
  model: z.string().optional(),
});
export type StageRef = z.infer<typeof StageRefSchema>;

export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative().optional(),
  cacheWriteTokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const StageResultSchema = z.object({
  status: z.literal("completed"),
  /** USD; `costEstimated` tells whether it came from our price table (true) or from the tool itself (false). */
  cost: z.number().nonnegative(),
  costEstimated: z.boolean().optional(),
  /** where `cost` comes from: the tool's own report, our price table, a free local model, or nothing known */
  costSource: z.enum(["tool", "price-table", "free", "unknown"]).optional(),
  /** ms, first attempt start to end */
  duration: z.number().nonnegative(),
  usage: UsageSchema,
  /** ms from stage start to first token of the successful attempt */
  timeToFirstToken: z.number().nonnegative().nullable().optional(),
  attempts: z.number().int().positive().optional(),
  finishReason: z.string().optional(),
  model: z.string().optional(),
  provider: z.string().optional(),
});
export type StageResult = z.infer<typeof StageResultSchema>;

export const EXECUTION_RESULT_STATUSES = ["success", "early_exit", "failed"] as const;

export const ExecutionSummarySchema = z.object({
  stagesCompleted: z.number().int().nonnegative(),
  stagesSkipped: z.number().int().nonnegative(),
  stagesFailed: z.number().int().nonnegative(),
  totalCost: z.number().nonnegative(),
  totalDuration: z.number().nonnegative(),
  usage: UsageSchema,
  /** id of the last completed stage, whose output is the pipeline's answer */
  finalStageId: z.string().nullable(),
  earlyExitStageId: z.string().nullable().optional(),
});
export type ExecutionSummary = z.infer<typeof ExecutionSummarySchema>;

const base = {
  executionId: z.string().min(1),
  seq: z.number().int().positive(),
  ts: z.number(),
};

export const WireEventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("execution:started"),
    ...base,
    pipelineId: z.string(),
    pipelineName: z.string(),
    input: z.string(),
    stages: z.array(StageRefSchema),
  }),
  z.object({
    type: z.literal("stage:started"),
    ...base,
    stage: StageRefSchema,
    index: z.number().int().nonnegative(),
    total: z.number().int().positive(),
  }),
  z.object({
    type: z.literal("stage:output"),
    ...base,
    stageId: z.string(),
    output: z.string(),
    /** length (UTF-16 code units) of the stage's output before this chunk */
    offset: z.number().int().nonnegative(),
    isFinal: z.boolean(),
  }),
  z.object({
    type: z.literal("stage:retrying"),
    ...base,
    stageId: z.string(),
    attempt: z.number().int().positive(),
    error: z.string(),
    delayMs: z.number().nonnegative().optional(),
  }),
  z.object({
    type: z.literal("stage:completed"),
    ...base,
    stage: StageRefSchema,
    result: StageResultSchema,
  }),
  z.object({
    type: z.literal("stage:skipped"),
    ...base,
    stage: StageRefSchema,
    reason: z.string(),
  }),
  z.object({
    type: z.literal("stage:failed"),
    ...base,
    stage: StageRefSchema,
    error: z.string(),
    code: z.string().optional(),
  }),
  z.object({
    type: z.literal("execution:completed"),
    ...base,
    result: z.object({
      status: z.enum(EXECUTION_RESULT_STATUSES),
      summary: ExecutionSummarySchema,
    }),
  }),
  z.object({
    type: z.literal("execution:cancelled"),
    ...base,
    reason: z.string(),
  }),
  z.object({
    type: z.literal("execution:failed"),
    ...base,
    error: z.string(),
  }),
]);

export type WireEvent = z.infer<typeof WireEventSchema>;
export type WireEventType = WireEvent["type"];
export type EventOf<T extends WireEventType> = Extract<WireEvent, { type: T }>;
/** An event before the emitter stamps it with executionId, seq and ts. */
export type UnstampedEvent = WireEvent extends infer E
  ? E extends WireEvent
    ? Omit<E, "executionId" | "seq" | "ts">
    : never
  : never;

export const FINAL_EXECUTION_EVENTS: ReadonlySet<WireEventType> = new Set([
  "execution:completed",
  "execution:cancelled",
  "execution:failed",
]);

export const STAGE_STATUSES = ["pending", "running", "completed", "skipped", "failed", "cancelled"] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export const EXECUTION_STATUSES = [
  "queued",
  "running",
  "success",
  "early_exit",
  "failed",
  "cancelled",
  "interrupted",
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
