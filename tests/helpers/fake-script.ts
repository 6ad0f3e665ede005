// The types every fake model server shares: the behaviour script a test enqueues, what the fake
// records, the Gate that releases chunks one at a time, and the WireFormat each API implements.
// The API is described at the top of fake-model-server.ts.

export type FakeStopReason = "stop" | "length" | "tool-calls" | "content-filter" | "stop-sequence";

export interface FakeUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export type FakeBehaviour =
  | {
      kind: "stream";
      chunks: string[];
      usage?: FakeUsage;
      stopReason?: FakeStopReason;
      /** Wait this long between chunks (a slow model); prefer `gate` in tests. */
      delayMs?: number;
      gate?: Gate;
    }
  | { kind: "cut"; chunks: string[]; abrupt?: boolean; delayMs?: number; gate?: Gate }
  | { kind: "hang"; chunks?: string[] }
  | {
      kind: "http-error";
      status: number;
      /** Replaces the API-shaped error body. */
      body?: unknown;
      headers?: Record<string, string>;
      message?: string;
    }
  | { kind: "sse-error"; chunks: string[]; errorType?: string; message?: string };

export type DefaultBehaviour = FakeBehaviour | ((request: RecordedRequest) => FakeBehaviour);

export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  at: number;
}

export interface SentChunk {
  /** index into `modelRequests` */
  request: number;
  index: number;
  text: string;
  /** epoch ms with sub-ms precision (performance.timeOrigin + performance.now()) */
  at: number;
}

export interface FakeModelServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly modelRequests: RecordedRequest[];
  readonly unknownRequests: RecordedRequest[];
  readonly sent: SentChunk[];
  readonly aborted: number;
  enqueue(...behaviours: FakeBehaviour[]): void;
  setDefault(behaviour: DefaultBehaviour): void;
  whenAborted(count?: number): Promise<void>;
  whenModelRequest(count?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface FakeServerOptions {
  default?: DefaultBehaviour;
  /** Print unknown endpoints to stderr as they arrive (they are always recorded). */
  logUnknown?: boolean;
}

/** Releases chunks one at a time; the server awaits a permit before sending each gated chunk. */
export class Gate {
  #permits = 0;
  #waiters: (() => void)[] = [];
  /** chunks the server has been allowed to send so far */
  released = 0;

  release(count = 1): void {
    this.released += count;
    this.#permits += count;
    while (this.#permits > 0 && this.#waiters.length > 0) {
      this.#permits--;
      this.#waiters.shift()?.();
    }
  }

  wait(signal: AbortSignal): Promise<void> {
    if (this.#permits > 0) {
      this.#permits--;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      // A waiter that gave up leaves the queue, or a later release() would spend its permit on it.
      const onAbort = () => {
        const i = this.#waiters.indexOf(grant);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(grant);
    });
  }
}

export function createGate(): Gate {
  return new Gate();
}

/** What a streamed answer needs to know about its request. */
export interface StreamContext {
  model: string;
  body: Record<string, unknown>;
  id: string;
  /** The behaviour's usage (or the default), known up front: Anthropic reports input tokens first. */
  usage: FakeUsage;
}

/** One API's wire format; each fake supplies one. Event strings are complete SSE events ("…\n\n"). */
export interface WireFormat {
  name: string;
  /** The SDK base URL for a server at `origin`. */
  baseUrl(origin: string): string;
  /** Classifies a request: a model call, a fixed response (other known endpoints), or unknown (null). */
  route(
    method: string,
    path: string,
    search: URLSearchParams,
    body: unknown,
  ): { kind: "model"; model: string; stream: boolean } | { kind: "response"; response: Response } | null;
  start(ctx: StreamContext): string[];
  chunk(ctx: StreamContext, text: string, index: number): string;
  finish(ctx: StreamContext, usage: FakeUsage, stopReason: FakeStopReason): string[];
  streamError(ctx: StreamContext, errorType: string, message: string): string;
  /** A complete (non-streamed) answer, for clients that ask without `stream`. */
  whole(ctx: StreamContext, text: string, usage: FakeUsage, stopReason: FakeStopReason): unknown;
  errorBody(status: number, message: string): unknown;
}

export const DEFAULT_BEHAVIOUR: FakeBehaviour = { kind: "stream", chunks: ["Hello", " from", " the", " fake."] };

export function defaultUsage(chunks: string[]): FakeUsage {
  return { inputTokens: 12, outputTokens: chunks.length };
}

/** Formats one SSE event; `event` omitted for data-only protocols (OpenAI, Gemini). */
export function sse(data: unknown, event?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ""}data: ${payload}\n\n`;
}
