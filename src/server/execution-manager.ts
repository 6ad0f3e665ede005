// Starts executions (at most `maxConcurrent` at once, the rest queued in sight), stores every wire
// event the executor emits and hands each flushed batch to the fan-out. The executor already stamps
// and coalesces events; this class only persists them and publishes them after they are stored.
import { PipelineExecutor } from "../core/executor.ts";
import { StagecastError, errorMessage } from "../core/errors.ts";
import { writeResultFile } from "../core/result-file.ts";
import type { ExecutionOutcome, ExecutorOptions, RunOverrides } from "../core/types.ts";
import type { ExecutionStatus, StageRef, WireEvent } from "../protocol/events.ts";
import type { ExecutionListItem, ExecutionSnapshot, StageSnapshot } from "../protocol/server-api.ts";
import type { PipelineConfig } from "../protocol/pipeline.ts";
import { type EventLog, type ExecutionQuery, type ExecutionRow, type FlushedEvent, parseStageResult, parseUsage } from "./event-log.ts";
import { OutputTail } from "./output-tail.ts";
import { pipelineSecrets } from "../core/secrets.ts";
import { maskSecrets } from "./security.ts";

export interface RunnableExecutor {
  run(): Promise<ExecutionOutcome>;
  cancel(reason?: string): void;
}

export type ExecutorFactory = (pipeline: PipelineConfig, options: ExecutorOptions) => RunnableExecutor;

export interface ExecutionManagerOptions {
  log: EventLog;
  dataDir: string;
  maxConcurrent?: number;
  createExecutor?: ExecutorFactory;
  /** Extra executor options (coalescing, retry delays, provider resolver); tests use it. */
  executorOptions?: Partial<ExecutorOptions>;
}

interface Active {
  id: string;
  pipeline: PipelineConfig;
  input: string;
  overrides: RunOverrides;
  tail: OutputTail;
  /** API keys this run can see, masked out of everything it emits */
  secrets: string[];
  executor?: RunnableExecutor;
  done: Promise<void>;
  resolveDone: () => void;
}

export type CancelResult = "cancelled" | "not_found" | "already_ended";

export class ExecutionManager {
  readonly #log: EventLog;
  readonly #dataDir: string;
  readonly #maxConcurrent: number;
  readonly #createExecutor: ExecutorFactory;
  readonly #executorOptions: Partial<ExecutorOptions>;
  readonly #active = new Map<string, Active>();
  readonly #queue: Active[] = [];
  #flushScheduled = false;
  #stopping = false;
  /** Called after each flush with that execution's stored events, in seq order. */
  onEvents: (executionId: string, batch: FlushedEvent[]) => void = () => {};
  /** Called whenever an execution is queued, starts, changes status or ends. */
  onExecutionsChanged: () => void = () => {};

  constructor(opts: ExecutionManagerOptions) {
    this.#log = opts.log;
    this.#dataDir = opts.dataDir;
    this.#maxConcurrent = Math.max(1, opts.maxConcurrent ?? 4);
    this.#createExecutor = opts.createExecutor ?? ((p, o) => new PipelineExecutor(p, o));
    this.#executorOptions = opts.executorOptions ?? {};
  }

  /** Stores a new execution (queued) and starts it when a slot is free; returns its id at once. */
  start(pipeline: PipelineConfig, input: string, overrides: RunOverrides = {}): string {
    if (this.#stopping) throw new Error("the server is stopping");
    const id = crypto.randomUUID();
    const stages: StageRef[] = pipeline.stages.map((s) => ({ id: s.id, name: s.name ?? s.id, type: s.type ?? "generate" }));
    const secrets = pipelineSecrets(pipeline);
    // Stored as the execution:started event will carry it: masked.
    this.#log.createExecution({ id, pipelineId: pipeline.id, pipelineName: pipeline.name, input: maskSecrets(input, secrets), createdAt: Date.now(), stages });
    let resolveDone = () => {};
    const done = new Promise<void>((r) => (resolveDone = r));
    const active: Active = { id, pipeline, input, overrides, tail: new OutputTail(), secrets, done, resolveDone };
    this.#active.set(id, active);
    this.#queue.push(active);
    this.onExecutionsChanged();
    this.#dequeue();
    return id;
  }

  /** Resolves when the execution has ended and its result file is written (at once if not active). */
  whenDone(id: string): Promise<void> {
    return this.#active.get(id)?.done ?? Promise.resolve();
  }

  cancel(id: string, reason = "cancelled by user"): CancelResult {
    const active = this.#active.get(id);
    if (!active) return this.#log.getExecution(id) ? "already_ended" : "not_found";
    const queued = this.#queue.indexOf(active);
    if (queued >= 0) {
      // Never started, so no executor will say it ended: the manager writes the final event itself.
      this.#queue.splice(queued, 1);
      this.#onEvent({ type: "execution:cancelled", executionId: id, seq: 1, ts: Date.now(), reason });
      this.#flush();
      this.#active.delete(id);
      active.resolveDone();
      return "cancelled";
    }
    this.#flush();
    const status = this.#log.getExecution(id)?.status;
    // Ended, with only its result file still being written.
    if (status !== "running" && status !== "queued") return "already_ended";
    active.executor?.cancel(reason);
    return "cancelled";
  }

  #dequeue(): void {
    // Every active execution not in the queue holds a slot until its result file is written.
    while (this.#active.size - this.#queue.length < this.#maxConcurrent && this.#queue.length > 0) {
      const next = this.#queue.shift() as Active;
      void this.#run(next);
    }
  }

  async #run(a: Active): Promise<void> {
    let outcome: ExecutionOutcome | undefined;
    let crash: unknown;
    try {
      a.executor = this.#createExecutor(a.pipeline, {
        ...this.#executorOptions,
        input: a.input,
        executionId: a.id,
        overrides: a.overrides,
        secrets: a.secrets,
        callbacks: { onEvent: (e) => this.#onEvent(e, a.secrets) },
      });
      outcome = await a.executor.run();
    } catch (err) {
      // run() never rejects by contract; construction may.
      crash = err;
    }
    this.#flush();
    const row = this.#log.getExecution(a.id);
    if (row && (row.status === "running" || row.status === "queued")) {
      // Every execution ends with a final event, or its viewers would wait for one forever.
      const why = crash !== undefined ? errorMessage(crash) : (outcome?.error ?? "the run ended without reporting how");
      this.#onEvent({ type: "execution:failed", executionId: a.id, seq: row.last_seq + 1, ts: Date.now(), error: why }, a.secrets);
      this.#flush();
    }
    if (outcome) {
      try {
        const path = await writeResultFile(this.#dataDir, maskOutcome(outcome, a.secrets), { pipelineId: a.pipeline.id, pipelineName: a.pipeline.name, input: a.input });
        this.#log.setResultPath(a.id, path);
      } catch (err) {
        console.error(`stagecast: could not write the result file of ${a.id}: ${maskSecrets(errorMessage(err), a.secrets)}`);
      }
    }
    this.#active.delete(a.id);
    this.onExecutionsChanged();
    a.resolveDone();
    if (!this.#stopping) this.#dequeue();
  }

  #onEvent(event: WireEvent, secrets: readonly string[] = []): void {
    const raw = JSON.stringify(event);
    const json = maskSecrets(raw, secrets);
    this.#log.append(json === raw ? event : (JSON.parse(json) as WireEvent), json);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Everything emitted in this turn of the event loop goes to disk in one transaction.
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#log.flush();
    if (batch.length === 0) return;
    let changed = false;
    const byExecution = new Map<string, FlushedEvent[]>();
    for (const entry of batch) {
      const e = entry.event;
      const tail = this.#active.get(e.executionId)?.tail;
      if (e.type === "stage:output") tail?.append(e.stageId, e.output, e.offset);
      else if (e.type === "stage:retrying") tail?.reset(e.stageId);
      else if (e.type.startsWith("execution:")) changed = true;
      let list = byExecution.get(e.executionId);
      if (!list) byExecution.set(e.executionId, (list = []));
      list.push(entry);
    }
    for (const [id, list] of byExecution) this.onEvents(id, list);
    if (changed) this.onExecutionsChanged();
  }

  /** Stores and publishes every pending event now, so what is read from the log next is current. */
  flush(): void {
    this.#flush();
  }

  summaries(status?: ExecutionStatus, limit = 100): ExecutionListItem[] {
    this.#flush();
    return this.#log.listExecutions({ ...(status ? { status } : {}), limit }).map((r) => this.#summary(r));
  }

  /** One page of the list, newest first, with how many match in all. */
  page(query: ExecutionQuery): { executions: ExecutionListItem[]; total: number } {
    this.#flush();
    const { limit: _limit, offset: _offset, ...filter } = query;
    return { executions: this.#log.listExecutions(query).map((r) => this.#summary(r)), total: this.#log.countExecutions(filter) };
  }

  #summary(r: ExecutionRow): ExecutionListItem {
    const position = r.status === "queued" ? this.#queue.findIndex((a) => a.id === r.id) : -1;
    return {
      id: r.id,
      pipelineId: r.pipeline_id,
      pipelineName: r.pipeline_name,
      status: r.status,
      createdAt: r.created_at,
      startedAt: r.started_at,
      endedAt: r.ended_at,
      lastSeq: r.last_seq,
      error: r.error,
      queuePosition: position >= 0 ? position + 1 : null,
    };
  }

  /** The state at `lastSeq`: everything stored so far, output as held (tail past the budget). */
  snapshot(id: string): ExecutionSnapshot | null {
    this.#flush();
    const row = this.#log.getExecution(id);
    if (!row) return null;
    const tail = this.#active.get(id)?.tail ?? this.#log.tailFromLog(id);
    const stages = this.#log.getStages(id).map((s): StageSnapshot => {
      const held = tail.get(s.stage_id);
      const result = parseStageResult(s.result);
      return {
        id: s.stage_id,
        name: s.name,
        type: s.type,
        status: s.status,
        startedAt: s.started_at,
        endedAt: s.ended_at,
        cost: s.cost,
        usage: parseUsage(s.usage),
        error: s.error,
        reason: s.reason,
        output: held?.output ?? "",
        outputLength: held?.outputLength ?? s.output_length,
        outputTruncated: held ? held.outputTruncated : s.output_length > 0,
        ...(s.provider !== null ? { provider: s.provider } : {}),
        ...(s.model !== null ? { model: s.model } : {}),
        ...(result !== null ? { result } : {}),
      };
    });
    const { status, input, error } = row;
    return {
      id: row.id,
      pipelineId: row.pipeline_id,
      pipelineName: row.pipeline_name,
      status,
      input,
      createdAt: row.created_at,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      lastSeq: row.last_seq,
      error,
      stages,
    };
  }

  /** Cancels everything still running or queued and waits until each has ended and been stored. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const a of [...this.#queue]) this.cancel(a.id, "the server stopped");
    const pending = [...this.#active.values()];
    for (const a of pending) a.executor?.cancel("the server stopped");
    await Promise.all(pending.map((a) => a.done));
    this.#flush();
  }
}

/** The outcome as the result file stores it, with API keys masked out of outputs and error messages. */
function maskOutcome(outcome: ExecutionOutcome, secrets: readonly string[]): ExecutionOutcome {
  if (secrets.length === 0) return outcome;
  const mask = (text: string) => maskSecrets(text, secrets);
  const stages = Object.fromEntries(
    Object.entries(outcome.stages).map(([id, s]) => {
      if (s.status === "failed") return [id, { ...s, output: mask(s.output), error: new StagecastError(s.error.code, mask(s.error.message)) }];
      if (s.status === "completed" || s.status === "cancelled") return [id, { ...s, output: mask(s.output) }];
      return [id, s];
    }),
  );
  return { ...outcome, stages, ...(outcome.error !== undefined ? { error: mask(outcome.error) } : {}) } as ExecutionOutcome;
}
