// Turns a stream of wire events (optionally seeded from a REST snapshot) into execution state.
// Pure and runtime-agnostic: the CLI, the server's tests and the browser share it. Each call returns
// a new state object and new objects for what changed, so a UI can compare by reference.
import type {
  ExecutionStatus,
  ExecutionSummary,
  StageRef,
  StageResult,
  StageStatus,
  WireEvent,
} from "./events.ts";
import type { ExecutionSnapshot } from "./server-api.ts";

export interface StageView {
  id: string;
  name: string;
  type: string;
  status: StageStatus;
  /** The text known here: the whole output, or its tail (then `outputStart` > 0). */
  output: string;
  /** Offset (UTF-16) in the stage's full output of `output[0]`. */
  outputStart: number;
  /** Full output length (UTF-16), as the server counts it. */
  outputLength: number;
  /** Current attempt (1 unless retried). */
  attempt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** ts of the first non-empty chunk of the current attempt */
  firstOutputAt: number | null;
  result: StageResult | null;
  error: string | null;
  /** the stage's model source and model label, when the events name them (StageRef.provider/model) */
  provider?: string;
  model?: string;
  /** why it was skipped, or the last retry's error while retrying */
  reason: string | null;
}

export interface ExecutionState {
  id: string | null;
  pipelineId: string | null;
  pipelineName: string | null;
  input: string;
  status: ExecutionStatus;
  stages: StageView[];
  lastSeq: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  summary: ExecutionSummary | null;
  /** An event skipped past seq lastSeq+1: the state is behind and should be resynced from a snapshot. */
  gap: boolean;
}

export function initialState(): ExecutionState {
  return {
    id: null,
    pipelineId: null,
    pipelineName: null,
    input: "",
    status: "queued",
    stages: [],
    lastSeq: 0,
    startedAt: null,
    endedAt: null,
    error: null,
    summary: null,
    gap: false,
  };
}

function newStage(ref: StageRef): StageView {
  return {
    id: ref.id,
    name: ref.name,
    type: ref.type,
    status: "pending",
    output: "",
    outputStart: 0,
    outputLength: 0,
    attempt: 1,
    startedAt: null,
    endedAt: null,
    firstOutputAt: null,
    result: null,
    error: null,
    reason: null,
    ...(ref.provider !== undefined ? { provider: ref.provider } : {}),
    ...(ref.model !== undefined ? { model: ref.model } : {}),
  };
}

/** State as of a snapshot's `lastSeq`; follow on with events after it. */
export function fromSnapshot(snapshot: ExecutionSnapshot): ExecutionState {
  return {
    id: snapshot.id,
    pipelineId: snapshot.pipelineId,
    pipelineName: snapshot.pipelineName,
    input: snapshot.input,
    status: snapshot.status,
    lastSeq: snapshot.lastSeq,
    startedAt: snapshot.startedAt,
    endedAt: snapshot.endedAt,
    error: snapshot.error,
    summary: null,
    gap: false,
    stages: snapshot.stages.map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      status: s.status,
      output: s.output,
      outputStart: s.outputLength - s.output.length,
      outputLength: s.outputLength,
      attempt: 1,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      firstOutputAt: null,
      // The stored result as the stage:completed event carried it (time to first token, cost source), so a
      // cold load shows the same figures as a live view; a server that predates `result` gives the columns only.
      result:
        s.status !== "completed"
          ? null
          : (s.result ??
            (s.usage
              ? {
                  status: "completed",
                  cost: s.cost ?? 0,
                  duration: s.startedAt !== null && s.endedAt !== null ? s.endedAt - s.startedAt : 0,
                  usage: s.usage,
                }
              : null)),
      error: s.error,
      reason: s.reason,
      ...(s.provider !== undefined ? { provider: s.provider } : {}),
      ...(s.model !== undefined ? { model: s.model } : {}),
    })),
  };
}

const FINAL: ReadonlySet<ExecutionStatus> = new Set(["success", "early_exit", "failed", "cancelled", "interrupted"]);
const FINAL_STAGE: ReadonlySet<StageStatus> = new Set(["completed", "skipped", "failed", "cancelled"]);

export function isFinalStatus(status: ExecutionStatus): boolean {
  return FINAL.has(status);
}

function updateStage(state: ExecutionState, stageId: string, update: (s: StageView) => StageView | null): ExecutionState {
  const index = state.stages.findIndex((s) => s.id === stageId);
  if (index < 0) return state;
  const current = state.stages[index] as StageView;
  // A final stage state is never overwritten (a late or replayed event cannot resurrect it).
  const next = update(current);
  if (next === null || next === current) return state;
  const stages = state.stages.slice();
  stages[index] = next;
  return { ...state, stages };
}

/** Appends a chunk at `offset`, tolerating overlap (already known text) and flagging a hole. */
function appendOutput(stage: StageView, chunk: string, offset: number, ts: number): StageView | "gap" {
  const end = stage.outputStart + stage.output.length;
  if (offset > end) return "gap";
  const overlap = end - offset;
  if (overlap >= chunk.length) return stage;
  const added = chunk.slice(overlap);
  return {
    ...stage,
    output: stage.output + added,
    outputLength: Math.max(stage.outputLength, offset + chunk.length),
    firstOutputAt: stage.firstOutputAt ?? (chunk.length > 0 ? ts : null),
  };
}

export function reduce(state: ExecutionState, event: WireEvent): ExecutionState {
  if (state.id !== null && event.executionId !== state.id) return state;
  if (event.seq <= state.lastSeq) return state; // a duplicate (replay overlap): already applied
  const gap = state.gap || event.seq !== state.lastSeq + 1;
  let next: ExecutionState = { ...state, id: event.executionId, lastSeq: event.seq, gap };
  // A final execution state is never overwritten; the event still counts as seen.
  if (FINAL.has(state.status) && event.type.startsWith("execution:")) return next;
  switch (event.type) {
    case "execution:started": {
      const known = new Map(state.stages.map((s) => [s.id, s]));
      next = {
        ...next,
        pipelineId: event.pipelineId,
        pipelineName: event.pipelineName,
        input: event.input,
        status: FINAL.has(state.status) ? state.status : "running",
        startedAt: event.ts,
        stages: event.stages.map((ref) => known.get(ref.id) ?? newStage(ref)),
      };
      break;
    }
    case "stage:started":
      next = updateStage(next, event.stage.id, (s) =>
        FINAL_STAGE.has(s.status)
          ? null
          : {
              ...s,
              status: "running",
              startedAt: event.ts,
              name: event.stage.name,
              type: event.stage.type,
              ...(event.stage.provider !== undefined ? { provider: event.stage.provider } : {}),
              ...(event.stage.model !== undefined ? { model: event.stage.model } : {}),
            },
      );
      break;
    case "stage:output": {
      let hole = false;
      next = updateStage(next, event.stageId, (s) => {
        const appended = appendOutput(s, event.output, event.offset, event.ts);
        if (appended === "gap") {
          hole = true;
          return null;
        }
        return appended;
      });
      if (hole) next = { ...next, gap: true };
      break;
    }
    case "stage:retrying":
      next = updateStage(next, event.stageId, (s) =>
        FINAL_STAGE.has(s.status)
          ? null
          : { ...s, output: "", outputStart: 0, outputLength: 0, attempt: event.attempt, firstOutputAt: null, reason: event.error },
      );
      break;
    case "stage:completed":
      next = updateStage(next, event.stage.id, (s) =>
        FINAL_STAGE.has(s.status) ? null : { ...s, status: "completed", endedAt: event.ts, result: event.result, reason: null },
      );
      break;
    case "stage:skipped":
      next = updateStage(next, event.stage.id, (s) =>
        FINAL_STAGE.has(s.status) ? null : { ...s, status: "skipped", endedAt: event.ts, reason: event.reason },
      );
      break;
    case "stage:failed":
      next = updateStage(next, event.stage.id, (s) =>
        FINAL_STAGE.has(s.status) ? null : { ...s, status: "failed", endedAt: event.ts, error: event.error },
      );
      break;
    case "execution:completed":
      next = { ...next, status: event.result.status, endedAt: event.ts, summary: event.result.summary };
      break;
    case "execution:cancelled":
      next = {
        ...next,
        status: "cancelled",
        endedAt: event.ts,
        error: event.reason,
        // Nothing follows a final event: stages still pending will never run (the server's snapshot says cancelled too).
        stages: next.stages.map((s) => (s.status === "running" || s.status === "pending" ? { ...s, status: "cancelled", endedAt: event.ts } : s)),
      };
      break;
    case "execution:failed":
      next = {
        ...next,
        status: "failed",
        endedAt: event.ts,
        error: event.error,
        stages: next.stages.map((s) =>
          s.status === "running"
            ? { ...s, status: "failed", endedAt: event.ts, error: event.error }
            : s.status === "pending"
              ? { ...s, status: "cancelled", endedAt: event.ts }
              : s,
        ),
      };
      break;
  }
  return next;
}

/** Applies events in order. */
export function reduceAll(state: ExecutionState, events: Iterable<WireEvent>): ExecutionState {
  let s = state;
  for (const e of events) s = reduce(s, e);
  return s;
}
