// Runs one stage: renders its prompt, calls its model and hands every delta on the moment it arrives,
// retrying retryable failures (each attempt starts fresh), enforcing the stage timeout, and parsing
// the answer. Cancel (the run's signal) stops the in-flight call at once.
import type { StageResult, Usage } from "../protocol/events.ts";
import type { FinishReason, ModelRequest } from "../providers/types.ts";
import { estimateCost } from "./cost.ts";
import { CancelledError, StageTimeoutError, StagecastError, errorMessage } from "./errors.ts";
import { parseOutput } from "./output-parser.ts";
import type { ResolvedStage } from "./resolve.ts";
import { abortReason, retryDelayMs, sleep } from "./retry.ts";
import type { RunContext } from "./run-context.ts";
import { renderTemplate } from "./templates.ts";
import type { ProviderResolver } from "./types.ts";

export interface StageRunHooks {
  /** A new attempt starts (1, 2, …); output of earlier attempts is void. */
  onAttemptStart?(attempt: number): void;
  onDelta(text: string): void;
  /** Called before waiting `delayMs` for attempt `nextAttempt`. */
  onRetry(nextAttempt: number, error: StagecastError, delayMs: number): void;
}

export interface StageRunSuccess {
  output: string;
  data: unknown;
  result: StageResult;
}

/** A stage failure, with the output streamed by its last attempt (kept, never lost). */
export class StageFailure extends Error {
  constructor(
    readonly error: StagecastError,
    readonly output: string,
  ) {
    super(error.message);
  }
}

const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0 };

export class StageRunner {
  constructor(
    private readonly stage: ResolvedStage,
    private readonly deps: { resolveProvider: ProviderResolver; retryBaseDelayMs?: number; cwd?: string },
  ) {}

  async run(ctx: RunContext, signal: AbortSignal, hooks: StageRunHooks): Promise<StageRunSuccess> {
    const { stage } = this;
    const started = performance.now();
    let request: ModelRequest;
    try {
      request = {
        model: stage.model,
        prompt: renderTemplate(stage.config.prompt, ctx, `stages[${stage.index}].prompt`),
        ...(stage.system !== undefined
          ? { system: renderTemplate(stage.system, ctx, `stages[${stage.index}].system`) }
          : {}),
        ...(this.deps.cwd !== undefined ? { cwd: this.deps.cwd } : {}),
      };
    } catch (err) {
      throw new StageFailure(toStagecastError(err), "");
    }

    const provider = await this.deps.resolveProvider(stage.model);
    for (let attempt = 1; ; attempt++) {
      hooks.onAttemptStart?.(attempt);
      const attemptStart = performance.now();
      let output = "";
      let firstTokenAt: number | null = null;
      let usage: Usage = ZERO_USAGE;
      let finish: FinishReason = "stop";
      let costUsd: number | undefined;

      const attemptAbort = new AbortController();
      const onRunAbort = () => attemptAbort.abort(signal.reason);
      if (signal.aborted) throw new StageFailure(new CancelledError(abortReason(signal)), "");
      signal.addEventListener("abort", onRunAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        attemptAbort.abort(new StageTimeoutError(stage.timeoutMs));
      }, stage.timeoutMs);

      try {
        for await (const delta of provider.stream(request, { signal: attemptAbort.signal })) {
          attemptAbort.signal.throwIfAborted();
          if (delta.type === "text") {
            if (delta.text.length === 0) continue;
            firstTokenAt ??= performance.now();
            output += delta.text;
            hooks.onDelta(delta.text);
          } else if (delta.type === "usage") {
            usage = delta.usage;
          } else {
            finish = delta.reason;
            if (delta.usage) usage = delta.usage;
            costUsd = delta.costUsd;
          }
        }
        // A provider that swallowed the abort must not turn a cancel into a success.
        attemptAbort.signal.throwIfAborted();
      } catch (err) {
        const error = signal.aborted
          ? new CancelledError(abortReason(signal))
          : timedOut
            ? new StageTimeoutError(stage.timeoutMs)
            : toStagecastError(err);
        if (!error.retryable || attempt > stage.retries) throw new StageFailure(error, output);
        const delayMs = retryDelayMs(error, attempt, this.deps.retryBaseDelayMs);
        hooks.onRetry(attempt + 1, error, delayMs);
        try {
          await sleep(delayMs, signal);
        } catch (cancel) {
          throw new StageFailure(toStagecastError(cancel), "");
        }
        continue;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", onRunAbort);
      }

      let data: unknown;
      try {
        data = parseOutput(output, stage.output);
      } catch (err) {
        throw new StageFailure(toStagecastError(err), output);
      }
      const priced = priceOf(stage, usage, costUsd);
      const result: StageResult = {
        status: "completed",
        cost: priced.cost,
        costEstimated: priced.source === "price-table",
        costSource: priced.source,
        duration: Math.round(performance.now() - started),
        usage,
        timeToFirstToken: firstTokenAt === null ? null : Math.round(firstTokenAt - attemptStart),
        attempts: attempt,
        finishReason: finish,
        provider: stage.model.provider,
        ...(stage.model.model !== undefined ? { model: stage.model.model } : {}),
      };
      return { output, data, result };
    }
  }
}

function priceOf(stage: ResolvedStage, usage: Usage, costUsd: number | undefined): { cost: number; source: NonNullable<StageResult["costSource"]> } {
  if (costUsd !== undefined) return { cost: costUsd, source: "tool" };
  if (stage.model.provider === "local") return { cost: 0, source: "free" };
  const { cost, known } = estimateCost(stage.model.provider, stage.model.model, usage);
  return known ? { cost, source: "price-table" } : { cost: 0, source: "unknown" };
}

export function toStagecastError(err: unknown): StagecastError {
  if (err instanceof StagecastError) return err;
  if (err instanceof StageFailure) return err.error;
  return new StagecastError("provider_error", errorMessage(err), { cause: err });
}
