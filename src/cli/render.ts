// The terminal view of a run: a header per stage, a spinner until the first token, then the text
// as it streams, and a figures line when the stage ends.
import type { StageRef, StageResult } from "../protocol/events.ts";
import type { StagecastError } from "../core/errors.ts";
import type { ExecutionOutcome, ExecutorCallbacks } from "../core/types.ts";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function makeStyle(color: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (color ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function formatCost(cost: number, estimated: boolean | undefined): string {
  const s = cost === 0 ? "$0" : cost < 0.01 ? `$${cost.toFixed(4)}` : `$${cost.toFixed(2)}`;
  return estimated ? `${s} (est.)` : s;
}

/** Figures for a finished stage: duration, time to first token, tokens, tok/s, cost. */
export function stageFigures(result: StageResult): string {
  const parts = [formatDuration(result.duration)];
  if (result.timeToFirstToken != null) parts.push(`first token ${formatDuration(result.timeToFirstToken)}`);
  const out = result.usage.outputTokens;
  // A model call always reads some input; all zeros means the tool (a `command` stage) reported no usage.
  if (result.usage.inputTokens > 0 || out > 0) {
    parts.push(`${result.usage.inputTokens} in / ${out} out tokens`);
    const streamMs = result.duration - (result.timeToFirstToken ?? 0);
    if (out > 0 && streamMs > 0) parts.push(`${(out / (streamMs / 1000)).toFixed(1)} tok/s`);
  }
  parts.push(
    result.costSource === "free" ? "free (local)" : result.costSource === "unknown" ? "cost unknown" : formatCost(result.cost, result.costEstimated),
  );
  if (result.attempts && result.attempts > 1) parts.push(`${result.attempts} attempts`);
  return parts.join(" · ");
}

export interface RendererOptions {
  out: { write(s: string): unknown };
  tty: boolean;
  color: boolean;
  /** A label per stage id, e.g. "local · SmolLM2" or "anthropic · claude-haiku-4-5". */
  modelLabels: Record<string, string>;
}

export class TerminalRenderer implements ExecutorCallbacks {
  readonly #o: RendererOptions;
  readonly #s: Style;
  #atLineStart = true;
  #spinner: ReturnType<typeof setInterval> | undefined;
  #spinnerShown = false;
  #stageStart = 0;
  #gotText = false;

  constructor(options: RendererOptions) {
    this.#o = options;
    this.#s = makeStyle(options.color);
  }

  #write(text: string): void {
    if (text.length === 0) return;
    this.#o.out.write(text);
    this.#atLineStart = text.endsWith("\n");
  }

  #newline(): void {
    if (!this.#atLineStart) this.#write("\n");
  }

  #startSpinner(): void {
    if (!this.#o.tty) return;
    let frame = 0;
    const draw = () => {
      const elapsed = formatDuration(performance.now() - this.#stageStart);
      this.#o.out.write(`\r\x1b[2K${this.#s.cyan(SPINNER[frame++ % SPINNER.length] ?? "")} ${this.#s.dim(`waiting for the first token… ${elapsed}`)}`);
      this.#spinnerShown = true;
    };
    draw();
    this.#spinner = setInterval(draw, 80);
  }

  #stopSpinner(): void {
    if (this.#spinner !== undefined) clearInterval(this.#spinner);
    this.#spinner = undefined;
    if (this.#spinnerShown) this.#o.out.write("\r\x1b[2K");
    this.#spinnerShown = false;
  }

  onPipelineStart(info: { executionId: string; pipeline: { name: string }; stages: StageRef[] }): void {
    const n = info.stages.length;
    this.#write(`${this.#s.bold(info.pipeline.name)} ${this.#s.dim(`· ${n} stage${n === 1 ? "" : "s"} · execution ${info.executionId}`)}\n`);
  }

  onStageStart(stage: StageRef, index: number, total: number): void {
    this.#newline();
    const label = this.#o.modelLabels[stage.id];
    this.#write(`\n${this.#s.cyan(`[${index + 1}/${total}]`)} ${this.#s.bold(stage.name)}${label ? this.#s.dim(`  (${label})`) : ""}\n`);
    this.#stageStart = performance.now();
    this.#gotText = false;
    this.#startSpinner();
  }

  onStageOutput(_stage: StageRef, chunk: string): void {
    if (chunk.length === 0) return;
    if (!this.#gotText) {
      this.#stopSpinner();
      this.#gotText = true;
    }
    this.#write(chunk);
  }

  onStageRetrying(_stage: StageRef, attempt: number, error: StagecastError, delayMs: number): void {
    this.#stopSpinner();
    this.#newline();
    this.#write(this.#s.yellow(`↻ attempt ${attempt} in ${formatDuration(delayMs)} after: ${error.message}`) + "\n");
    this.#gotText = false;
    this.#startSpinner();
  }

  onStageComplete(stage: StageRef, result: StageResult): void {
    this.#stopSpinner();
    this.#newline();
    this.#write(`${this.#s.green("✓")} ${this.#s.dim(`${stage.name} · ${stageFigures(result)}`)}\n`);
  }

  onStageSkipped(stage: StageRef, reason: string): void {
    this.#newline();
    this.#write(`\n${this.#s.dim(`– ${stage.name} skipped: ${reason}`)}\n`);
  }

  onStageFailed(stage: StageRef, error: StagecastError): void {
    this.#stopSpinner();
    this.#newline();
    this.#write(`${this.#s.red("✗")} ${this.#s.red(`${stage.name} failed: ${error.message}`)}\n`);
  }

  onPipelineComplete(outcome: ExecutionOutcome): void {
    this.#stopSpinner();
    this.#newline();
    const { summary } = outcome;
    const head =
      outcome.status === "success"
        ? this.#s.green("✓ success")
        : outcome.status === "early_exit"
          ? this.#s.green(`✓ finished early (after ${summary.earlyExitStageId})`)
          : outcome.status === "cancelled"
            ? this.#s.yellow("■ cancelled")
            : this.#s.red(`✗ failed${outcome.error ? `: ${outcome.error}` : ""}`);
    const figures = [
      `${summary.stagesCompleted} completed`,
      ...(summary.stagesSkipped ? [`${summary.stagesSkipped} skipped`] : []),
      ...(summary.stagesFailed ? [`${summary.stagesFailed} failed`] : []),
      formatDuration(summary.totalDuration),
      `${summary.usage.inputTokens} in / ${summary.usage.outputTokens} out tokens`,
      formatCost(summary.totalCost, false),
    ];
    this.#write(`\n${head} ${this.#s.dim(`· ${figures.join(" · ")}`)}\n`);
  }

  dispose(): void {
    this.#stopSpinner();
  }
}
