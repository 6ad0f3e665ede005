// Runs one agent CLI (or a pipeline's own command) as a child process, shared by every adapter.
// - argv arrays only, never a shell: nothing in a prompt can become a command or an option.
// - `detached: true` makes the child lead its own process group, so cancel and timeout kill it
//   and everything it started with one `process.kill(-pid)`; SIGKILL follows after a grace.
// - stdout is handed on as it arrives (whole lines, or raw chunks for `command`), with
//   backpressure; the last stderr lines are kept for error messages.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { CliNotFoundError, ProviderConfigError } from "../../core/errors.ts";

export interface SpawnSpec {
  /** Name used in error messages, e.g. "claude". */
  tool: string;
  /** A bare name looked up on `env.PATH`, or a path (relative paths resolve against our cwd). */
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed. */
  stdin: string;
  /** "lines": stdout split into lines (no line ending); "chunks": text as it arrives. */
  output: "lines" | "chunks";
  /** Appended to the not-found error, e.g. how to install the tool. */
  installHint?: string;
  /** SIGTERM → SIGKILL grace on cancel (default 1500 ms). */
  killGraceMs?: number;
}

export interface ChildExit {
  exitCode: number | null;
  signal: string | null;
}

const STDERR_LINES = 20;
const STDERR_LINE_CHARS = 500;
// Pause the pipe when the consumer falls this far behind, so a flood of output cannot fill memory.
const HIGH_WATER = 512;
const LOW_WATER = 64;

/**
 * The complete lines in `partial + text` (CR of a CRLF dropped) and the unfinished rest. Only the
 * new chunk is scanned for a newline, so a long line arriving in many chunks is not re-split each time.
 */
function splitLines(partial: string, text: string): { lines: string[]; rest: string } {
  const last = text.lastIndexOf("\n");
  if (last < 0) return { lines: [], rest: partial + text };
  const lines = (partial + text.slice(0, last)).split("\n");
  return { lines: lines.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line)), rest: text.slice(last + 1) };
}

/** Finds the executable the way execvp would, but up front, so a missing tool is a clear error. */
export async function resolveProgram(
  program: string,
  env: Record<string, string | undefined>,
  tool: string,
  installHint = "",
): Promise<string> {
  if (program.includes("/")) {
    const full = path.resolve(process.cwd(), program);
    try {
      await access(full, constants.X_OK);
      return full;
    } catch {
      throw new CliNotFoundError(tool, `${full} does not exist or is not executable`);
    }
  }
  const found = Bun.which(program, { PATH: env.PATH ?? "" });
  if (!found) throw new CliNotFoundError(tool, installHint || `no "${program}" on PATH`);
  return found;
}

export class ChildRun implements AsyncIterable<string> {
  readonly pid: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #spec: SpawnSpec;
  readonly #signal: AbortSignal;
  #items: string[] = [];
  #wake: (() => void) | null = null;
  #ended = false;
  #failure: unknown = undefined;
  #paused = false;
  #discard = false;
  #partial = "";
  #stderr: string[] = [];
  #stderrPartial = "";
  #closed: Promise<ChildExit>;
  #isClosed = false;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  #strayTimer: ReturnType<typeof setTimeout> | undefined;
  #onAbort = () => this.kill();

  private constructor(child: ChildProcessWithoutNullStreams, spec: SpawnSpec, signal: AbortSignal) {
    this.#child = child;
    this.#spec = spec;
    this.#signal = signal;
    this.pid = child.pid ?? -1;

    const stdoutDecoder = new TextDecoder("utf-8");
    child.stdout.on("data", (buf: Uint8Array) => this.#onStdout(stdoutDecoder.decode(buf, { stream: true })));
    child.stdout.on("end", () => {
      this.#onStdout(stdoutDecoder.decode());
      if (this.#partial !== "") this.#push(this.#partial);
      this.#partial = "";
      this.#end();
    });
    const stderrDecoder = new TextDecoder("utf-8");
    child.stderr.on("data", (buf: Uint8Array) => this.#onStderr(stderrDecoder.decode(buf, { stream: true })));
    // The child may exit without reading its stdin; EPIPE then is expected, not a failure.
    child.stdin.on("error", () => {});
    child.stdin.end(spec.stdin);

    this.#closed = new Promise<ChildExit>((resolve) => {
      child.on("error", (err: NodeJS.ErrnoException) => {
        this.#failure =
          err.code === "ENOENT"
            ? new CliNotFoundError(spec.tool, spec.installHint)
            : new ProviderConfigError(`${spec.tool}: could not start ${spec.program}: ${err.message}`);
        this.#end();
        if (child.pid === undefined) {
          this.#isClosed = true;
          resolve({ exitCode: null, signal: null });
        }
      });
      // The leader is gone: whatever it left running in its group is an orphan by definition.
      child.on("exit", () => {
        this.#killGroup("SIGTERM");
        this.#strayTimer = setTimeout(() => this.#killGroup("SIGKILL"), spec.killGraceMs ?? 1500);
      });
      child.on("close", (code, sig) => {
        this.#isClosed = true;
        clearTimeout(this.#killTimer);
        clearTimeout(this.#strayTimer);
        this.#killGroup("SIGKILL");
        signal.removeEventListener("abort", this.#onAbort);
        this.#end();
        resolve({ exitCode: code, signal: sig });
      });
    });
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Starts the program; throws CliNotFoundError / ProviderConfigError before anything runs. */
  static async start(spec: SpawnSpec, signal: AbortSignal): Promise<ChildRun> {
    signal.throwIfAborted();
    const info = await stat(spec.cwd).catch(() => null);
    if (!info?.isDirectory()) {
      throw new ProviderConfigError(`${spec.tool}: working directory ${spec.cwd} does not exist`);
    }
    const program = await resolveProgram(spec.program, spec.env, spec.tool, spec.installHint);
    signal.throwIfAborted();
    // The OS cannot pass a NUL byte in an argument or variable; say which one, never its value
    // (an environment value may be a key).
    const nulArg = spec.args.findIndex((a) => a.includes("\0"));
    if (nulArg >= 0) throw new ProviderConfigError(`${spec.tool}: argument ${nulArg + 1} contains a NUL byte, which a program cannot receive`);
    const nulEnv = Object.entries(spec.env).find(([, v]) => v?.includes("\0"));
    if (nulEnv) throw new ProviderConfigError(`${spec.tool}: environment variable ${nulEnv[0]} contains a NUL byte, which a program cannot receive`);
    const child = spawn(program, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
    });
    const run = new ChildRun(child, spec, signal);
    if (signal.aborted) run.kill();
    return run;
  }

  /** stdout lines (or chunks) as they arrive; throws the abort reason at once on cancel. */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    while (true) {
      if (this.#signal.aborted) throw this.#signal.reason;
      const item = this.#items.shift();
      if (item !== undefined) {
        if (this.#paused && this.#items.length <= LOW_WATER) {
          this.#paused = false;
          this.#child.stdout.resume();
        }
        yield item;
        continue;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Resolves once the child has exited and every pipe is closed (it has been reaped). */
  exited(): Promise<ChildExit> {
    return this.#closed;
  }

  /** The last stderr lines (at most 20), oldest first. */
  stderrTail(): string {
    const lines = this.#stderrPartial ? [...this.#stderr, this.#clip(this.#stderrPartial)] : this.#stderr;
    return lines.slice(-STDERR_LINES).join("\n");
  }

  /** SIGTERM to the whole process group now, SIGKILL after the grace. Idempotent. */
  kill(): void {
    if (this.#isClosed || this.#killTimer !== undefined) return;
    this.#killGroup("SIGTERM");
    // Nobody reads from here on: drain the pipe, or a paused stream would never close.
    this.#discard = true;
    this.#items.length = 0;
    this.#paused = false;
    this.#child.stdout.resume();
    this.#killTimer = setTimeout(() => this.#killGroup("SIGKILL"), this.#spec.killGraceMs ?? 1500);
    this.#wakeUp();
  }

  /** Kills the group if it still runs and waits until it is reaped. Call in `finally`. */
  async dispose(): Promise<ChildExit> {
    if (!this.#isClosed) this.kill();
    return this.#closed;
  }

  #killGroup(sig: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  #onStdout(text: string): void {
    if (text === "") return;
    if (this.#spec.output === "chunks") {
      this.#push(text);
      return;
    }
    const { lines, rest } = splitLines(this.#partial, text);
    this.#partial = rest;
    for (const line of lines) this.#push(line);
  }

  #push(item: string): void {
    if (this.#discard) return;
    this.#items.push(item);
    if (!this.#paused && this.#items.length >= HIGH_WATER) {
      this.#paused = true;
      this.#child.stdout.pause();
    }
    this.#wakeUp();
  }

  #onStderr(text: string): void {
    const { lines, rest } = splitLines(this.#stderrPartial, text);
    this.#stderrPartial = rest;
    for (const line of lines) {
      this.#stderr.push(this.#clip(line));
      if (this.#stderr.length > STDERR_LINES) this.#stderr.shift();
    }
    // A line that never ends must not grow without bound.
    if (this.#stderrPartial.length > 64 * 1024) this.#stderrPartial = this.#stderrPartial.slice(-STDERR_LINE_CHARS);
  }

  #clip(line: string): string {
    return line.length > STDERR_LINE_CHARS ? `${line.slice(0, STDERR_LINE_CHARS)}…` : line;
  }

  #end(): void {
    this.#ended = true;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
