// Runs a pipeline's stages in order and reports everything twice over one path: ExecutorCallbacks
// for push consumers, `events()` for pull consumers. Both see exactly the stamped wire events.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PipelineConfig } from "../protocol/pipeline.ts";
import type { ExecutionSummary, StageRef, UnstampedEvent, Usage, WireEvent } from "../protocol/events.ts";
import { resolveProvider as defaultResolver } from "../providers/registry.ts";
import { AsyncQueue } from "./async-queue.ts";
import { OutputCoalescer } from "./chunker.ts";
import { describeCondition, evaluateCondition } from "./conditions.ts";
import { CancelledError, StagecastError, errorMessage } from "./errors.ts";
import { resolveStages, type ResolvedStage } from "./resolve.ts";
import { abortReason } from "./retry.ts";
import { maskSecrets } from "./secrets.ts";
import type { RunContext } from "./run-context.ts";
import { StageFailure, StageRunner, toStagecastError } from "./stage-runner.ts";
import type { ExecutionOutcome, ExecutionOutcomeStatus, ExecutorOptions, StageOutcome } from "./types.ts";

export class PipelineExecutor {
  readonly executionId: string;
  readonly #pipeline: PipelineConfig;
  readonly #options: ExecutorOptions;
  readonly #abort = new AbortController();
  readonly #queues = new Set<AsyncQueue<WireEvent>>();
  #seq = 0;
  #running: Promise<ExecutionOutcome> | undefined;
  #finalEvent: WireEvent | undefined;

  constructor(pipeline: PipelineConfig, options: ExecutorOptions) {
    this.#pipeline = pipeline;
    this.#options = options;
    this.executionId = options.executionId ?? crypto.randomUUID();
    const external = options.signal;
    if (external) {
      if (external.aborted) this.#abort.abort(external.reason);
      else external.addEventListener("abort", () => this.#abort.abort(external.reason), { once: true });
    }
  }

  /** Stops the run: the in-flight model call is aborted at once; `execution:cancelled` is the last event. */
  cancel(reason = "cancelled by user"): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason);
  }

  /** Wire events from now until the final one. Subscribe before `run()` to see them all. */
  events(): AsyncIterable<WireEvent> {
    const queue = new AsyncQueue<WireEvent>();
    if (this.#finalEvent) queue.close();
    else this.#queues.add(queue);
    return queue;
  }

  /** Never rejects: every failure ends as an outcome (and a final wire event). */
  run(): Promise<ExecutionOutcome> {
    this.#running ??= this.#execute();
    return this.#running;
  }

  #mask(text: string): string {
    return this.#options.secrets ? maskSecrets(text, this.#options.secrets) : text;
  }

  /** The error as callers see it: the same object, or a copy of it when its message quotes a secret. */
  #maskError(error: StagecastError): StagecastError {
    const message = this.#mask(error.message);
    if (message === error.message) return error;
    return new StagecastError(error.code, message, { retryable: error.retryable });
  }

  #emit(event: UnstampedEvent): WireEvent {
    let stamped = { ...event, executionId: this.executionId, seq: ++this.#seq, ts: Date.now() } as WireEvent;
    // Output is masked by its coalescer (keys may be cut between deltas); errors and input here.
    if (this.#options.secrets?.length && stamped.type !== "stage:output") {
      const json = JSON.stringify(stamped);
      const masked = this.#mask(json);
      if (masked !== json) stamped = JSON.parse(masked) as WireEvent;
    }
    this.#options.callbacks?.onEvent?.(stamped);
    for (const queue of this.#queues) queue.push(stamped);
    if (stamped.type === "execution:completed" || stamped.type === "execution:cancelled" || stamped.type === "execution:failed") {
      this.#finalEvent = stamped;
      for (const queue of this.#queues) queue.close();
      this.#queues.clear();
    }
    return stamped;
  }

  async #execute(): Promise<ExecutionOutcome> {
    const startedAt = Date.now();
    const cb = this.#options.callbacks ?? {};
    const signal = this.#abort.signal;
    const stages: Record<string, StageOutcome> = {};
    const ctx: RunContext = { input: this.#options.input, stages: {} };
    let workDir: string | undefined;
    let ownsWorkDir = false;
    let status: ExecutionOutcomeStatus = "success";
    let error: string | undefined;
    let earlyExitStageId: string | null = null;

    const finish = (final: ExecutionOutcomeStatus): ExecutionOutcome => {
      const outcome: ExecutionOutcome = {
        executionId: this.executionId,
        status: final,
        stages,
        summary: summarize(stages, Date.now() - startedAt, earlyExitStageId),
        ...(error !== undefined ? { error } : {}),
        startedAt,
        endedAt: Date.now(),
      };
      if (final === "cancelled") this.#emit({ type: "execution:cancelled", reason: error ?? "cancelled" });
      else this.#emit({ type: "execution:completed", result: { status: final, summary: outcome.summary } });
      cb.onPipelineComplete?.(outcome);
      return outcome;
    };

    // A defect, not a model failure: reported as the run's final event rather than thrown at the caller.
    const crash = (err: unknown): ExecutionOutcome => {
      error = this.#mask(errorMessage(err));
      this.#emit({ type: "execution:failed", error });
      const outcome: ExecutionOutcome = {
        executionId: this.executionId,
        status: "failed",
        stages,
        summary: summarize(stages, Date.now() - startedAt, earlyExitStageId),
        error,
        startedAt,
        endedAt: Date.now(),
      };
      cb.onPipelineComplete?.(outcome);
      return outcome;
    };

    let resolved: ResolvedStage[];
    try {
      resolved = resolveStages(this.#pipeline, this.#options.overrides);
    } catch (err) {
      return crash(err);
    }

    const refs = resolved.map((s) => s.ref);
    for (const s of resolved) {
      stages[s.ref.id] = { status: "pending" };
      ctx.stages[s.ref.id] = { status: "pending", output: "", data: undefined };
    }
    cb.onPipelineStart?.({ executionId: this.executionId, pipeline: this.#pipeline, input: this.#options.input, stages: refs });
    this.#emit({
      type: "execution:started",
      pipelineId: this.#pipeline.id,
      pipelineName: this.#pipeline.name,
      input: this.#options.input,
      stages: refs,
    });

    try {
      for (const [index, stage] of resolved.entries()) {
        const ref = stage.ref;
        if (signal.aborted) throw new CancelledError(abortReason(signal));
        if (status !== "success") {
          // An earlier stage ended the run (failure or early exit): the rest never run.
          const reason = earlyExitStageId ? `early exit after stage ${earlyExitStageId}` : `not run: an earlier stage failed`;
          this.#skip(ref, reason, stages, ctx);
          continue;
        }
        const skipReason = this.#skipReason(stage, ctx);
        if (skipReason) {
          this.#skip(ref, skipReason, stages, ctx);
          continue;
        }

        if (stage.model.provider === "cli" && stage.model.cwd === undefined && workDir === undefined) {
          workDir = this.#options.workDir ?? (await mkdtemp(join(tmpdir(), "stagecast-run-")));
          ownsWorkDir = this.#options.workDir === undefined;
        }
        cb.onStageStart?.(ref, index, resolved.length);
        this.#emit({ type: "stage:started", stage: ref, index, total: resolved.length });
        ctx.stages[ref.id] = { status: "running", output: "", data: undefined };

        const coalescer = new OutputCoalescer({
          ...this.#options.coalesce,
          ...(this.#options.secrets ? { secrets: this.#options.secrets } : {}),
          emit: (chunk, offset, isFinal) => {
            cb.onStageOutput?.(ref, chunk, isFinal, offset);
            this.#emit({ type: "stage:output", stageId: ref.id, output: chunk, offset, isFinal });
          },
        });
        const runner = new StageRunner(stage, {
          resolveProvider: this.#options.resolveProvider ?? defaultResolver,
          ...(this.#options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: this.#options.retryBaseDelayMs } : {}),
          ...(stage.model.provider === "cli" ? { cwd: stage.model.cwd ?? workDir } : {}),
        });
        try {
          const done = await runner.run(ctx, signal, {
            onDelta: (text) => coalescer.push(text),
            onRetry: (attempt, err, delayMs) => {
              coalescer.reset();
              cb.onStageRetrying?.(ref, attempt, err, delayMs);
              this.#emit({ type: "stage:retrying", stageId: ref.id, attempt, error: err.message, delayMs });
            },
          });
          coalescer.finish();
          stages[ref.id] = { status: "completed", output: this.#mask(done.output), data: done.data, result: done.result };
          ctx.stages[ref.id] = { status: "completed", output: done.output, data: done.data };
          cb.onStageComplete?.(ref, done.result, this.#mask(done.output), done.data);
          this.#emit({ type: "stage:completed", stage: ref, result: done.result });
          if (stage.config.earlyExit && evaluateCondition(stage.config.earlyExit, ctx)) {
            earlyExitStageId = ref.id;
            status = "early_exit";
          }
        } catch (err) {
          // Whatever was streamed is sent before the stage ends: nothing produced is lost.
          coalescer.finish();
          const failure = err instanceof StageFailure ? err : new StageFailure(toStagecastError(err), "");
          if (failure.error instanceof CancelledError || signal.aborted) {
            stages[ref.id] = { status: "cancelled", output: this.#mask(failure.output) };
            ctx.stages[ref.id] = { status: "cancelled", output: failure.output, data: undefined };
            throw new CancelledError(abortReason(signal));
          }
          const shown = this.#maskError(failure.error);
          stages[ref.id] = { status: "failed", output: this.#mask(failure.output), error: shown };
          ctx.stages[ref.id] = { status: "failed", output: failure.output, data: undefined };
          cb.onStageFailed?.(ref, shown);
          this.#emit({ type: "stage:failed", stage: ref, error: shown.message, code: shown.code });
          if (!stage.config.continueOnError) {
            status = "failed";
            error = `stage ${ref.id} failed: ${shown.message}`;
          }
        } finally {
          coalescer.dispose();
        }
      }
      return finish(status);
    } catch (err) {
      if (err instanceof CancelledError || signal.aborted) {
        error = err instanceof StagecastError ? err.message : abortReason(signal);
        return finish("cancelled");
      }
      return crash(err);
    } finally {
      if (workDir && ownsWorkDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
    }
  }

  #skipReason(stage: ResolvedStage, ctx: RunContext): string | undefined {
    const { runIf, skipIf } = stage.config;
    if (runIf && !evaluateCondition(runIf, ctx)) return `runIf not met: ${describeCondition(runIf)}`;
    if (skipIf && evaluateCondition(skipIf, ctx)) return `skipIf met: ${describeCondition(skipIf)}`;
    return undefined;
  }

  #skip(ref: StageRef, reason: string, stages: Record<string, StageOutcome>, ctx: RunContext): void {
    stages[ref.id] = { status: "skipped", reason };
    ctx.stages[ref.id] = { status: "skipped", output: "", data: undefined };
    this.#options.callbacks?.onStageSkipped?.(ref, reason);
    this.#emit({ type: "stage:skipped", stage: ref, reason });
  }
}

function summarize(stages: Record<string, StageOutcome>, totalDuration: number, earlyExitStageId: string | null): ExecutionSummary {
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let completed = 0;
  let skipped = 0;
  let failed = 0;
  let totalCost = 0;
  let finalStageId: string | null = null;
  for (const [id, s] of Object.entries(stages)) {
    if (s.status === "completed") {
      completed++;
      totalCost += s.result.cost;
      usage.inputTokens += s.result.usage.inputTokens;
      usage.outputTokens += s.result.usage.outputTokens;
      finalStageId = id;
    } else if (s.status === "skipped") skipped++;
    else if (s.status === "failed") failed++;
  }
  return {
    stagesCompleted: completed,
    stagesSkipped: skipped,
    stagesFailed: failed,
    totalCost,
    totalDuration,
    usage,
    finalStageId,
    earlyExitStageId,
  };
}
