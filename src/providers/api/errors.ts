// The one place where SDK errors (Anthropic, OpenAI, Vercel AI SDK) become our error classes, so
// the stage runner's retry logic asks `error.retryable` and never parses an SDK message.
// Duck-typed on purpose: importing the three SDKs' error classes here would load all of them for
// any one provider.
import {
  ProviderHttpError,
  ProviderNetworkError,
  ProviderProtocolError,
  StagecastError,
} from "../../core/errors.ts";

/** In-stream error types (Anthropic `event: error`, OpenAI-style `data: {error}`) → HTTP status. */
const STREAM_ERROR_STATUS: Record<string, number> = {
  overloaded_error: 529,
  api_error: 500,
  server_error: 500,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  timeout_error: 504,
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
};

type HeaderBag = { get(name: string): string | null } | Record<string, string | undefined> | undefined | null;

function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const bag = headers as Record<string, string | undefined>;
  return bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** `retry-after-ms`, else `retry-after` as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(headers: HeaderBag, now = Date.now()): number | undefined {
  const ms = header(headers, "retry-after-ms");
  if (ms !== undefined && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = header(headers, "retry-after")?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function isAbortLike(err: unknown): boolean {
  if (!err || typeof err !== "object") return false;
  const name = (err as { name?: unknown }).name;
  return name === "AbortError" || name === "APIUserAbortError";
}

const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET"]);

function isNetworkError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== "object" || depth > 4) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (e.name === "APIConnectionError" || e.name === "APIConnectionTimeoutError") return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  if (e.name === "TypeError" && typeof e.message === "string" && /fetch failed|terminated|socket|network|connect/i.test(e.message)) {
    return true;
  }
  return isNetworkError(e.cause, depth + 1);
}

function messageOf(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { apiMessage?: unknown; error?: unknown; message?: unknown };
    if (typeof e.apiMessage === "string" && e.apiMessage) return e.apiMessage;
    const inner = e.error as { error?: { message?: unknown }; message?: unknown } | undefined;
    if (typeof inner?.error?.message === "string") return inner.error.message;
    if (typeof inner?.message === "string") return inner.message;
    if (typeof e.message === "string" && e.message) return e.message;
  }
  return String(err);
}

/** The error type an SDK reports for an in-stream error event (no HTTP status of its own). */
function streamErrorType(err: object): string | undefined {
  const e = err as { type?: unknown; code?: unknown; error?: { type?: unknown; error?: { type?: unknown } } };
  for (const candidate of [e.type, e.error?.error?.type, e.error?.type, e.code]) {
    if (typeof candidate === "string" && candidate in STREAM_ERROR_STATUS) return candidate;
  }
  return undefined;
}

/**
 * Maps whatever a provider SDK threw to what the stage runner expects. An abort is returned as the
 * signal's own reason, untouched: the runner tells cancel from timeout by its own signal.
 */
export function toProviderError(provider: string, err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  if (err instanceof StagecastError) return err;
  if (isAbortLike(err)) return err;
  if (err && typeof err === "object") {
    const e = err as { status?: unknown; statusCode?: unknown; headers?: HeaderBag; responseHeaders?: HeaderBag };
    const status = typeof e.status === "number" ? e.status : typeof e.statusCode === "number" ? e.statusCode : undefined;
    if (status !== undefined && status >= 400) {
      return new ProviderHttpError(provider, status, messageOf(err), parseRetryAfter(e.headers ?? e.responseHeaders), err);
    }
    const type = streamErrorType(err);
    if (type) {
      const mapped = STREAM_ERROR_STATUS[type] ?? 500;
      return new ProviderHttpError(provider, mapped, `${type} during the stream: ${messageOf(err)}`, undefined, err);
    }
  }
  if (isNetworkError(err)) return new ProviderNetworkError(provider, `connection failed: ${messageOf(err)}`, err);
  return new ProviderProtocolError(provider, messageOf(err), err);
}

/** The stream ended without the model's final event: the connection was cut mid-answer. */
export function streamCutError(provider: string, what: string): ProviderNetworkError {
  return new ProviderNetworkError(provider, `the stream ended before ${what} (connection cut mid-answer)`);
}
