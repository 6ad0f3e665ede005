// Shared machinery of the fake model servers (fake-anthropic.ts, fake-openai.ts, fake-google.ts).
// Each fake is a real HTTP server on 127.0.0.1:<free port> that speaks its API's real wire format,
// so tests drive the real SDK clients against it. This file runs what the three have in common:
// the server, request recording, the behaviour queue and abort detection. The types, the Gate and
// the SSE formatter are in fake-script.ts; each API's wire format is its fake's `WireFormat`.
//
// API (the same for all three fakes):
//   const fake = await startFakeAnthropic();          // or startFakeOpenAI() / startFakeGoogle()
//   fake.url                  base URL to hand to the SDK (see each fake for its exact shape)
//   fake.origin               http://127.0.0.1:PORT
//   fake.enqueue(b1, b2, …)   behaviours for the next model calls, in order (one per call)
//   fake.setDefault(b | fn)   used when the queue is empty (default: stream "Hello from the fake.")
//   fake.requests             every request received: {method, path, search, headers, body, at}
//   fake.modelRequests        only the model calls (streaming or not), in order
//   fake.unknownRequests      requests to endpoints the fake does not know (answered 404)
//   fake.sent                 every text chunk sent: {request, index, text, at} (at = epoch ms,
//                             sub-ms precision) — for token→pixel latency benchmarks
//   fake.whenModelRequest(n = 1)  resolves once n model calls have arrived (the call is in flight)
//   fake.aborted              how many model responses the client closed before they ended
//   fake.whenAborted(n = 1)   resolves once `aborted >= n` (the server saw the connection close)
//   fake.stop()               closes the server and every open connection
//
// Behaviours (FakeBehaviour, the same script for every fake):
//   {kind: "stream", chunks, usage?, stopReason?, delayMs?, gate?}   a normal streamed answer
//   {kind: "cut", chunks, abrupt?, delayMs?, gate?}   some chunks, then the body ends without the
//        final events (abrupt: the connection is torn down mid-body instead of ending cleanly)
//   {kind: "hang", chunks?}    headers (and the given chunks), then nothing until the client leaves
//   {kind: "http-error", status, body?, headers?, message?}   an error response in the API's format
//   {kind: "sse-error", chunks, errorType?, message?}   chunks, then the API's in-stream error event
// A `gate` (createGate()) makes the server wait for `gate.release()` before sending each chunk, so
// a test can prove delta k reaches the client before chunk k+1 is even sent.

import {
  type DefaultBehaviour,
  type FakeBehaviour,
  type FakeModelServer,
  type FakeServerOptions,
  type RecordedRequest,
  type SentChunk,
  type StreamContext,
  type WireFormat,
  DEFAULT_BEHAVIOUR,
  defaultUsage,
} from "./fake-script.ts";

export * from "./fake-script.ts";

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export async function startFakeServer(wire: WireFormat, opts: FakeServerOptions = {}): Promise<FakeModelServer> {
  const requests: RecordedRequest[] = [];
  const modelRequests: RecordedRequest[] = [];
  const unknownRequests: RecordedRequest[] = [];
  const sent: SentChunk[] = [];
  const queue: FakeBehaviour[] = [];
  let fallback: DefaultBehaviour = opts.default ?? DEFAULT_BEHAVIOUR;
  let aborted = 0;
  let abortWaiters: { count: number; resolve: () => void }[] = [];
  let requestWaiters: { count: number; resolve: () => void }[] = [];
  const serverLife = new AbortController();
  let nextId = 1;

  function noteAbort(): void {
    aborted++;
    abortWaiters = abortWaiters.filter((w) => {
      if (aborted >= w.count) w.resolve();
      return aborted < w.count;
    });
  }

  function sseResponse(
    req: Request,
    produce: (write: (event: string) => void, signal: AbortSignal) => Promise<"end" | "abrupt">,
  ): Response {
    const encoder = new TextEncoder();
    // One signal for "this response is over from the client's side": connection closed (request
    // signal), body cancelled, or the whole server stopping.
    const life = new AbortController();
    let finished = false;
    const clientGone = () => {
      if (finished || life.signal.aborted) return;
      life.abort(new Error("client closed the connection"));
      noteAbort();
    };
    req.signal.addEventListener("abort", clientGone, { once: true });
    const onServerStop = () => life.abort(new Error("fake server stopped"));
    serverLife.signal.addEventListener("abort", onServerStop, { once: true });
    // Long benchmark runs make thousands of calls: drop the per-response listener when it ends.
    life.signal.addEventListener("abort", () => serverLife.signal.removeEventListener("abort", onServerStop), { once: true });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const write = (event: string) => {
          if (!life.signal.aborted) controller.enqueue(encoder.encode(event));
        };
        produce(write, life.signal).then(
          (how) => {
            if (life.signal.aborted) return;
            finished = true;
            serverLife.signal.removeEventListener("abort", onServerStop);
            if (how === "abrupt") controller.error(new Error("fake: connection cut"));
            else controller.close();
          },
          () => {
            // aborted while waiting: the client is gone, nothing more to send
          },
        );
      },
      cancel() {
        clientGone();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-request-id": `req_fake_${nextId}`,
      },
    });
  }

  async function serveModel(req: Request, recorded: RecordedRequest, model: string, stream: boolean): Promise<Response> {
    const requestIndex = modelRequests.length;
    modelRequests.push(recorded);
    requestWaiters = requestWaiters.filter((w) => {
      if (modelRequests.length >= w.count) w.resolve();
      return modelRequests.length < w.count;
    });
    const behaviour = queue.shift() ?? (typeof fallback === "function" ? fallback(recorded) : fallback);
    const body = (recorded.body && typeof recorded.body === "object" ? recorded.body : {}) as Record<string, unknown>;
    const chunks = behaviour.kind === "http-error" ? [] : (behaviour.chunks ?? []);
    const usage = (behaviour.kind === "stream" ? behaviour.usage : undefined) ?? defaultUsage(chunks);
    const ctx: StreamContext = { model, body, id: `fake_${nextId++}`, usage };

    if (behaviour.kind === "http-error") {
      const message = behaviour.message ?? `fake error ${behaviour.status}`;
      return Response.json(behaviour.body ?? wire.errorBody(behaviour.status, message), {
        status: behaviour.status,
        headers: behaviour.headers,
      });
    }

    if (!stream) {
      // Non-streaming clients (Claude Code makes a few such calls) get the whole answer at once.
      const stop = behaviour.kind === "stream" ? (behaviour.stopReason ?? "stop") : "stop";
      return Response.json(wire.whole(ctx, chunks.join(""), usage, stop));
    }

    return sseResponse(req, async (write, signal) => {
      for (const event of wire.start(ctx)) write(event);
      const gate = behaviour.kind === "stream" || behaviour.kind === "cut" ? behaviour.gate : undefined;
      const delayMs = behaviour.kind === "stream" || behaviour.kind === "cut" ? behaviour.delayMs : undefined;
      for (const [index, text] of chunks.entries()) {
        if (gate) await gate.wait(signal);
        else if (delayMs && index > 0) await sleep(delayMs, signal);
        sent.push({ request: requestIndex, index, text, at: nowMs() });
        write(wire.chunk(ctx, text, index));
      }
      switch (behaviour.kind) {
        case "stream":
          for (const event of wire.finish(ctx, usage, behaviour.stopReason ?? "stop")) {
            write(event);
          }
          return "end";
        case "cut":
          // With a gate, one more release triggers the cut, so a test can first see the chunks
          // arrive (an abrupt error would otherwise race the unsent chunks out of the socket).
          if (gate) await gate.wait(signal);
          return behaviour.abrupt ? "abrupt" : "end";
        case "sse-error":
          write(wire.streamError(ctx, behaviour.errorType ?? "overloaded_error", behaviour.message ?? "Overloaded"));
          return "end";
        case "hang":
          await new Promise<never>((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          });
          return "end";
      }
    });
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // Hanging and slow streams are the point of some tests; the fake never times a client out.
    idleTimeout: 0,
    // An `abrupt` cut errors the body stream on purpose; development mode would print each one.
    development: false,
    error(err) {
      console.error(`[fake ${wire.name}] handler failed:`, err);
      return Response.json(wire.errorBody(500, `fake ${wire.name}: ${String(err)}`), { status: 500 });
    },
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      let body: unknown = undefined;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const headers: Record<string, string> = {};
      req.headers.forEach((value, key) => {
        headers[key] = value;
      });
      const recorded: RecordedRequest = { method: req.method, path: url.pathname, search: url.search, headers, body, at: nowMs() };
      requests.push(recorded);
      const route = wire.route(req.method, url.pathname, url.searchParams, body);
      if (!route) {
        unknownRequests.push(recorded);
        if (opts.logUnknown) console.error(`[fake ${wire.name}] unknown endpoint: ${req.method} ${url.pathname}${url.search}`);
        return Response.json(wire.errorBody(404, `fake ${wire.name}: no such endpoint ${req.method} ${url.pathname}`), {
          status: 404,
        });
      }
      if (route.kind === "response") return route.response;
      return serveModel(req, recorded, route.model, route.stream);
    },
  });

  const origin = `http://127.0.0.1:${server.port}`;
  return {
    url: wire.baseUrl(origin),
    origin,
    port: server.port as number,
    requests,
    modelRequests,
    unknownRequests,
    sent,
    get aborted() {
      return aborted;
    },
    enqueue(...behaviours) {
      queue.push(...behaviours);
    },
    setDefault(behaviour) {
      fallback = behaviour;
    },
    whenAborted(count = 1) {
      if (aborted >= count) return Promise.resolve();
      return new Promise((resolve) => abortWaiters.push({ count, resolve }));
    },
    whenModelRequest(count = 1) {
      if (modelRequests.length >= count) return Promise.resolve();
      return new Promise((resolve) => requestWaiters.push({ count, resolve }));
    },
    async stop() {
      serverLife.abort();
      await server.stop(true);
    },
  };
}
