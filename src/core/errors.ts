// One base class, one subclass per failure with structured data, so retry logic asks the type
// (`error.retryable`), never a message string.

export class StagecastError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

/** The model service answered with an HTTP error. 429, 408, 409 and 5xx (529 overloaded included) are retryable. */
export class ProviderHttpError extends StagecastError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  constructor(provider: string, status: number, message: string, retryAfterMs?: number, cause?: unknown) {
    super("provider_http", `${provider}: HTTP ${status}: ${message}`, {
      retryable: status === 408 || status === 409 || status === 429 || status >= 500,
      cause,
    });
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The connection failed or the stream was cut before the model finished. */
export class ProviderNetworkError extends StagecastError {
  constructor(provider: string, message: string, cause?: unknown) {
    super("provider_network", `${provider}: ${message}`, { retryable: true, cause });
  }
}

/** A credential or setting the provider needs is missing (no retry helps). */
export class ProviderConfigError extends StagecastError {
  constructor(message: string) {
    super("provider_config", message);
  }
}

/** The provider answered something we could not understand (bad JSON line, unexpected payload). */
export class ProviderProtocolError extends StagecastError {
  constructor(provider: string, message: string, cause?: unknown) {
    super("provider_protocol", `${provider}: ${message}`, { cause });
  }
}

export class StageTimeoutError extends StagecastError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super("timeout", `timed out after ${timeoutMs} ms`, { retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

export class CancelledError extends StagecastError {
  constructor(reason = "cancelled") {
    super("cancelled", reason);
  }
}

/** An agent CLI or command exited non-zero or was killed. */
export class CliExitError extends StagecastError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  constructor(tool: string, exitCode: number | null, signal: string | null, stderrTail: string) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal ?? "a signal"}`;
    super("cli_exit", `${tool} ${how}${stderrTail ? `; last stderr lines:\n${stderrTail}` : ""}`);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

export class CliNotFoundError extends StagecastError {
  readonly tool: string;
  constructor(tool: string, hint = "") {
    super("cli_not_found", `${tool} is not installed or not on PATH${hint ? `; ${hint}` : ""}`);
    this.tool = tool;
  }
}

/** An agent CLI reported in its own output that the run failed (e.g. the model API refused the request). */
export class CliToolError extends StagecastError {
  readonly tool: string;
  readonly exitCode: number | null;
  readonly stderrTail: string;
  constructor(
    tool: string,
    toolMessage: string,
    opts: { exitCode: number | null; stderrTail: string; retryable?: boolean },
  ) {
    const exit = opts.exitCode !== null ? ` (exit code ${opts.exitCode})` : "";
    const tail = opts.stderrTail ? `; last stderr lines:\n${opts.stderrTail}` : "";
    super("cli_tool", `${tool} reported an error${exit}: ${toolMessage}${tail}`, { retryable: opts.retryable });
    this.tool = tool;
    this.exitCode = opts.exitCode;
    this.stderrTail = opts.stderrTail;
  }
}

/** The stage's answer could not be parsed as its `output.format` asks, or a required field is missing. */
export class OutputParseError extends StagecastError {
  constructor(message: string) {
    super("output_parse", message);
  }
}

/** A template variable resolved to nothing at run time. */
export class TemplateError extends StagecastError {
  constructor(message: string) {
    super("template", message);
  }
}

/** A pipeline file is invalid; `issues` lists every problem with its path. */
export class PipelineConfigError extends StagecastError {
  readonly issues: { path: string; message: string }[];
  readonly source: string;
  constructor(source: string, issues: { path: string; message: string }[]) {
    super(
      "invalid_pipeline",
      `${source}: ${issues.length} problem${issues.length === 1 ? "" : "s"}:\n` +
        issues.map((i) => `  ${i.path ? `${i.path}: ` : ""}${i.message}`).join("\n"),
    );
    this.issues = issues;
    this.source = source;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** No built-in, local pipeline or file answers to `ref` (the server maps this to 404, not 400). */
export class UnknownPipelineError extends PipelineConfigError {
  readonly ref: string;
  readonly available: string[];
  constructor(ref: string, available: string[], message: string) {
    super(ref, [{ path: "", message }]);
    this.message = message;
    (this as { code: string }).code = "unknown_pipeline";
    this.ref = ref;
    this.available = available;
  }
}
