// Backoff between attempts: the server's Retry-After when it gave one, else exponential with jitter.
import { CancelledError, ProviderHttpError, type StagecastError } from "./errors.ts";

export const DEFAULT_RETRY_BASE_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const MAX_RETRY_AFTER_MS = 120_000;

export function retryDelayMs(error: StagecastError, attempt: number, baseMs = DEFAULT_RETRY_BASE_MS): number {
  if (error instanceof ProviderHttpError && error.retryAfterMs !== undefined) {
    return Math.min(Math.max(0, error.retryAfterMs), MAX_RETRY_AFTER_MS);
  }
  const exp = Math.min(baseMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  // Up to 25% jitter so parallel runs hitting one rate limit do not retry in lockstep.
  return Math.round(exp * (0.75 + Math.random() * 0.25));
}

/** Resolves after `ms`, or rejects with CancelledError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new CancelledError(abortReason(signal)));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError(abortReason(signal)));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === "string") return reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  return "cancelled";
}
