// The shape every agent-CLI adapter has. An adapter is a translation boundary: it builds the
// tool's argv and maps the tool's own output to our Deltas; nothing tool-specific leaks past it.
import type { Delta, ModelRequest } from "../types.ts";

export interface CliInvocation {
  /** A bare name (looked up on PATH) or a path. */
  program: string;
  args: string[];
  stdin: string;
  /** Extra environment for the child, on top of the parent's. */
  env?: Record<string, string>;
  /** Name in messages when it depends on the request (a command's program). */
  label?: string;
}

/** A failure the tool reported in its own output stream (not just an exit code). */
export interface ToolFailure {
  message: string;
  retryable: boolean;
}

export interface Translator {
  /** One non-blank stdout line (or raw chunk, for `command`) → the deltas it carries, in order. */
  push(item: string, lineNo: number): Delta[];
  /** The tool's own error report, if it printed one. */
  failure(): ToolFailure | undefined;
  /** After a clean exit: the closing deltas (usage, finish). */
  end(): Delta[];
}

export interface CliAdapter {
  /** Name in messages, e.g. "claude". */
  readonly label: string;
  readonly output: "lines" | "chunks";
  readonly installHint: string;
  invocation(request: ModelRequest, env: Record<string, string | undefined>): CliInvocation;
  translator(): Translator;
}

const QUOTE_CHARS = 200;

/** A stdout line the adapter cannot read; the provider turns it into a ProviderProtocolError. */
export class MalformedLineError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** Parses one JSON line, or throws a MalformedLineError that quotes it and names its line. */
export function parseJsonLine(tool: string, line: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new MalformedLineError(`${tool} printed a line that is not JSON at line ${lineNo}: ${quote(line)}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new MalformedLineError(`${tool} printed a line that is not a JSON object at line ${lineNo}: ${quote(line)}`);
  }
  return value as Record<string, unknown>;
}

export function quote(line: string): string {
  return JSON.stringify(line.length > QUOTE_CHARS ? `${line.slice(0, QUOTE_CHARS)}…` : line);
}

export function obj(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Model-API statuses worth another attempt, as reported inside a tool's error result. */
export function retryableStatus(status: number | undefined): boolean {
  return status !== undefined && (status === 408 || status === 409 || status === 429 || status >= 500);
}

/** An option value from the pipeline file must never be read as another option. */
export function optionValue(flag: string, value: string): string {
  return `${flag}=${value}`;
}
