import { describe, expect, test } from "bun:test";
import {
  ProviderHttpError,
  ProviderNetworkError,
  ProviderProtocolError,
  ProviderConfigError,
} from "../../src/core/errors.ts";
import { parseRetryAfter, toProviderError } from "../../src/providers/api/errors.ts";

const NOW = Date.UTC(2026, 10, 25, 4, 0, 0);
const live = () => new AbortController().signal;

describe("parseRetryAfter", () => {
  test("seconds, fractional seconds, HTTP date, retry-after-ms", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": "3" }), NOW)).toBe(3000);
    expect(parseRetryAfter(new Headers({ "retry-after": "2.5" }), NOW)).toBe(2500);
    expect(parseRetryAfter(new Headers({ "retry-after": new Date(NOW + 30_000).toUTCString() }), NOW)).toBe(30_000);
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), NOW)).toBe(250);
  });

  test("a date in the past means now; absent or unreadable means unknown", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": new Date(NOW - 5000).toUTCString() }), NOW)).toBe(0);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }), NOW)).toBeUndefined();
    expect(parseRetryAfter(new Headers(), NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });

  test("plain header records (the AI SDK's responseHeaders), any case", () => {
    expect(parseRetryAfter({ "retry-after": "4" }, NOW)).toBe(4000);
    expect(parseRetryAfter({ "Retry-After": "4" }, NOW)).toBe(4000);
  });
});

describe("toProviderError", () => {
  test("an aborted signal wins: its reason comes back untouched, whatever the SDK threw", () => {
    const controller = new AbortController();
    const reason = new Error("cancelled by user");
    controller.abort(reason);
    expect(toProviderError("anthropic", new TypeError("fetch failed"), controller.signal)).toBe(reason);
    expect(toProviderError("anthropic", { status: 500 }, controller.signal)).toBe(reason);
  });

  test("an AbortError with a live signal passes through untouched", () => {
    const err = new DOMException("aborted", "AbortError");
    expect(toProviderError("openai", err, live())).toBe(err);
  });

  test("our own errors pass through", () => {
    const err = new ProviderConfigError("no key");
    expect(toProviderError("google", err, live())).toBe(err);
  });

  test("status errors with headers → ProviderHttpError with retry-after", () => {
    const err = Object.assign(new Error("429 rate limited"), {
      status: 429,
      headers: new Headers({ "retry-after": "1" }),
      apiMessage: "rate limited",
    });
    const mapped = toProviderError("anthropic", err, live()) as ProviderHttpError;
    expect(mapped).toBeInstanceOf(ProviderHttpError);
    expect([mapped.status, mapped.retryAfterMs, mapped.retryable, mapped.message]).toEqual([
      429,
      1000,
      true,
      "anthropic: HTTP 429: rate limited",
    ]);
    expect(mapped.cause).toBe(err);
  });

  test("in-stream error types map to statuses; unknown ones are protocol errors", () => {
    const overloaded = toProviderError("anthropic", { type: "overloaded_error", message: "Overloaded" }, live());
    expect((overloaded as ProviderHttpError).status).toBe(529);
    const rate = toProviderError("openai", { error: { type: "rate_limit_error" }, message: "x" }, live());
    expect((rate as ProviderHttpError).status).toBe(429);
    const odd = toProviderError("openai", new Error("Unexpected token < in JSON"), live());
    expect(odd).toBeInstanceOf(ProviderProtocolError);
    expect((odd as ProviderProtocolError).retryable).toBe(false);
  });

  test("connection failures → retryable ProviderNetworkError, also when the code is on the cause", () => {
    const refused = Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
    expect(toProviderError("openai", refused, live())).toBeInstanceOf(ProviderNetworkError);
    const wrapped = new Error("Connection error.", { cause: Object.assign(new Error("x"), { code: "ECONNRESET" }) });
    const mapped = toProviderError("openai", wrapped, live()) as ProviderNetworkError;
    expect(mapped).toBeInstanceOf(ProviderNetworkError);
    expect(mapped.retryable).toBe(true);
  });
});
