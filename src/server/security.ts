// The server's gatekeeping: token, Host and Origin checks, and the JSON body reader with its
// content-type and size limits. Everything a request can be refused for is decided here.
import { timingSafeEqual } from "node:crypto";
import { StagecastError } from "../core/errors.ts";

/** A request the API refuses: `status` and `code` go straight into `{error: {code, message}}`. */
export class ApiError extends StagecastError {
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(code, message);
    this.status = status;
  }
}

export function errorResponse(status: number, code: string, message: string, headers?: Record<string, string>): Response {
  return Response.json({ error: { code, message } }, { status, headers });
}

export const TOKEN_COOKIE = "stagecast_token";
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Hostnames that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function hostnameOf(hostHeader: string): string {
  // "[::1]:8080" → "[::1]", "127.0.0.1:8080" → "127.0.0.1"
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(hostHeader);
  return m?.[1] ?? hostHeader;
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type TokenSource = "header" | "query" | "cookie";

/** Which of the accepted places carried the right token, or null. A browser cannot set headers on a
 * WebSocket or a page load, hence `?token=` (answered with a cookie) and the cookie itself. */
export function findToken(req: Request, url: URL, token: string): TokenSource | null {
  const auth = req.headers.get("authorization");
  if (auth?.startsWith("Bearer ") && sameSecret(auth.slice(7).trim(), token)) return "header";
  const q = url.searchParams.get("token");
  if (q !== null && sameSecret(q, token)) return "query";
  const cookie = req.headers.get("cookie");
  if (cookie) {
    for (const part of cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === TOKEN_COOKIE && sameSecret(decodeURIComponent(v.join("=")), token)) return "cookie";
    }
  }
  return null;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * DNS rebinding: a foreign page whose name resolves to 127.0.0.1 is "same origin" with itself, so
 * on a loopback bind the Host header must itself be a loopback name.
 */
export function hostAllowed(req: Request, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const host = req.headers.get("host");
  return host === null || isLoopbackHost(hostnameOf(host));
}

/** Whether `origin` is one of those named with --allow-origin (a trailing slash there is ignored). */
export function isListedOrigin(origin: string | null, allowOrigins: readonly string[]): origin is string {
  return origin !== null && allowOrigins.some((o) => o.replace(/\/+$/, "") === origin);
}

/** No Origin (curl, scripts) is allowed; otherwise the page must come from this server or an allowed origin. */
export function originAllowed(req: Request, allowOrigins: readonly string[]): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  const host = req.headers.get("host");
  if (host !== null && (origin === `http://${host}` || origin === `https://${host}`)) return true;
  return isListedOrigin(origin, allowOrigins);
}

/** Reads a POST body as JSON: 415 unless application/json, 413 past `maxBytes` (declared or actual), 400 if malformed. */
export async function readJsonBody(req: Request, maxBytes: number): Promise<unknown> {
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "the request body must be JSON with Content-Type: application/json");
  }
  const tooLarge = () => new ApiError(413, "body_too_large", `the request body is larger than ${maxBytes} bytes`);
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    // Counted as it arrives, so a chunked body without Content-Length cannot exceed the limit either.
    for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError(400, "bad_json", `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// Masking lives in the engine (it masks stage output before chunking); the server uses the same.
export { maskSecrets, secretValues } from "../core/secrets.ts";
