// Property test of /ws: any text or binary message to a real server gets a proper reply or
// `{type: "error"}`, the connection stays open, and a run streaming at the same time to another
// viewer is undisturbed (every event, in order, exact text).
import { afterAll, beforeAll, expect, test } from "bun:test";
import fc from "fast-check";
import { createGate } from "../helpers/fake-openai.ts";
import { type Harness, type WsClient, assertContiguous, isFinal, setup, stageText } from "../server/harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await setup();
});
afterAll(async () => {
  await h.close();
});

const REPLIES = new Set(["subscribed", "executions", "pong", "error"]);
const CODES = new Set(["bad_json", "bad_message", "unknown_type", "execution_not_found", "not_subscribed", "slow_consumer"]);

function messages(runningId: string): fc.Arbitrary<string | Uint8Array> {
  const executionId = fc.oneof(fc.constant(runningId), fc.string({ maxLength: 40 }), fc.uuid(), fc.integer(), fc.constant(null));
  const since = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string({ maxLength: 5 }), fc.constant(null));
  const shaped = fc
    .record(
      {
        type: fc.oneof(fc.constantFrom("subscribe", "unsubscribe", "watch-executions", "ping", "pong", "SUBSCRIBE", "", "__proto__", "constructor"), fc.string({ maxLength: 12 }), fc.integer()),
        executionId,
        since,
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((m) => JSON.stringify(m));
  // Kept under the socket's 64 KB message limit: past it the server closes the connection by design.
  return fc.oneof(
    shaped,
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 100 }),
    fc.constantFrom("", "{", "null", "[]", "{\"type\":null}", "\"subscribe\"", "{\"type\":\"subscribe\"}", "{\"__proto__\":{\"type\":\"ping\"}}"),
    fc.uint8Array({ maxLength: 64 }),
  );
}

function parsed(msg: string | Uint8Array): unknown {
  try {
    return typeof msg === "string" ? JSON.parse(msg) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends `msg`, then a ping; the replies to `msg` are the non-event messages between the two. */
async function exchange(client: WsClient, msg: string | Uint8Array): Promise<Record<string, unknown>[]> {
  const from = client.messages.length;
  client.socket.send(msg as string | Uint8Array<ArrayBuffer>);
  client.send({ type: "ping" });
  const pong = await client.waitFor((m) => m.type === "pong", from);
  const to = client.messages.indexOf(pong);
  // A ping sent as the fuzzed message itself answers first; the second pong is ours.
  const isPing = (parsed(msg) as { type?: unknown } | null)?.type === "ping";
  const end = isPing ? client.messages.indexOf(await client.waitFor((m) => m.type === "pong", to + 1)) : to;
  return client.messages.slice(from, isPing ? to + 1 : end).filter((m) => typeof m.seq !== "number");
}

test("any message gets a proper reply or an error, the socket stays open, a concurrent run is undisturbed", async () => {
  const gate = createGate();
  const chunks = Array.from({ length: 60 }, (_, i) => `chunk ${i} ¿ñ😀 `);
  h.fake.enqueue({ kind: "stream", chunks, gate });
  const viewer = await h.ws();
  const id = await h.run("one", "fuzz alongside");
  await viewer.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
  const fuzzer = await h.ws();
  let closed = false;
  fuzzer.closed.then(() => (closed = true));

  await fc.assert(
    fc.asyncProperty(messages(id), async (msg) => {
      // The run moves on while messages arrive, but does not end: its end would broadcast an unasked-for
      // `executions` list to a fuzzer that sent watch-executions.
      if (gate.released < chunks.length - 1) gate.release(1);
      const replies = await exchange(fuzzer, msg);
      // The one message the protocol answers with silence: a valid unsubscribe from a subscribed run.
      if (replies.length === 0) expect(parsed(msg)).toMatchObject({ type: "unsubscribe", executionId: id });
      else expect(replies.length).toBe(1);
      for (const r of replies) {
        expect(REPLIES.has(r.type as string)).toBe(true);
        if (r.type === "error") {
          expect(CODES.has(r.code as string)).toBe(true);
          expect(typeof r.message).toBe("string");
        }
      }
      expect(closed).toBe(false);
      expect(fuzzer.socket.readyState).toBe(WebSocket.OPEN);
    }),
    { numRuns: 150 },
  );

  gate.release(chunks.length - gate.released);
  await viewer.waitFor(isFinal(id));
  const events = viewer.events(id);
  assertContiguous(events);
  expect(events.at(-1)?.type).toBe("execution:completed");
  expect(stageText(events, "write")).toBe(chunks.join(""));
  expect((await fuzzer.request({ type: "ping" }, (m) => m.type === "pong")).type).toBe("pong");
}, 60_000);
