// Live streaming over /ws against the real executor, the real OpenAI SDK and the fake model server:
// order and seq continuity, chunk bounds, replay while streaming, many subscribers, late joiners.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WireEvent } from "../../src/protocol/events.ts";
import { createGate } from "../helpers/fake-openai.ts";
import { type Harness, assertContiguous, isFinal, setup, stageText } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(async () => {
  await h.close();
});

const utf8 = (s: string) => new TextEncoder().encode(s).length;

/** Waits until `client` has received output of `stageId` up to `length` code units. */
function outputReached(stageId: string, length: number) {
  return (m: Record<string, unknown>) =>
    m.type === "stage:output" && m.stageId === stageId && (m.offset as number) + (m.output as string).length >= length;
}

describe("event stream", () => {
  test("events arrive in order with seq 1..n and each stage's chunks rebuild its text", async () => {
    h.fake.enqueue({ kind: "stream", chunks: ["Hel", "lo ", "draft"] }, { kind: "stream", chunks: ["Pol", "ished"] });
    const client = await h.ws();
    const id = await h.run("two", "topic");
    await client.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
    await client.waitFor(isFinal(id));
    const events = client.events(id);
    assertContiguous(events);
    const outline = events.filter((e) => e.type !== "stage:output").map((e) => ("stage" in e ? `${e.type} ${e.stage.id}` : e.type));
    expect(outline).toEqual([
      "execution:started",
      "stage:started draft",
      "stage:completed draft",
      "stage:started polish",
      "stage:completed polish",
      "execution:completed",
    ]);
    expect(stageText(events, "draft")).toBe("Hello draft");
    expect(stageText(events, "polish")).toBe("Polished");
    // Every output chunk of a stage sits between its start and its completion.
    const types = events.map((e) => e.type);
    const firstPolish = events.findIndex((e) => e.type === "stage:started" && e.stage.id === "polish");
    expect(events.slice(0, firstPolish).every((e) => e.type !== "stage:output" || e.stageId === "draft")).toBe(true);
    expect(types.at(-1)).toBe("execution:completed");
  });

  test("multi-byte output is cut into chunks of at most 4096 UTF-8 bytes, never splitting a character", async () => {
    const piece = "é日本😀a".repeat(700); // 2+3+3+4+1 bytes per repeat: 9100 bytes, surrogate pairs included
    const chunks = [piece, piece, piece.slice(0, 1001)];
    const full = chunks.join("");
    h.fake.enqueue({ kind: "stream", chunks });
    const client = await h.ws();
    const id = await h.run("one", "x");
    client.send({ type: "subscribe", executionId: id });
    await client.waitFor(isFinal(id));
    const outputs = client.events(id).filter((e): e is Extract<WireEvent, { type: "stage:output" }> => e.type === "stage:output");
    expect(outputs.every((e) => utf8(e.output) <= 4096)).toBe(true);
    expect(outputs.every((e) => e.output.isWellFormed())).toBe(true);
    expect(outputs.length).toBeGreaterThanOrEqual(Math.ceil(utf8(full) / 4096));
    expect(stageText(client.events(id), "write")).toBe(full);
    const res = await h.api(`/api/executions/${id}/stages/write/output`);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe(full);
  });
});

describe("replay", () => {
  test("replay from 0 and from k, requested while events are produced, equals the live stream exactly", async () => {
    const gate = createGate();
    const chunks = Array.from({ length: 40 }, (_, i) => `[chunk ${i} ${"·".repeat(300)}]`);
    h.fake.enqueue({ kind: "stream", chunks, gate });
    const live = await h.ws();
    const id = await h.run("one", "race");
    await live.request({ type: "subscribe", executionId: id, since: 0 }, (m) => m.type === "subscribed");
    gate.release(10);
    const tenth = chunks.slice(0, 10).join("").length;
    const k = (await live.waitFor(outputReached("write", tenth))).seq as number;

    const fromZero = await h.ws();
    const fromK = await h.ws();
    // The subscribes and the next 30 chunks race: the server must neither skip nor repeat an event.
    fromZero.send({ type: "subscribe", executionId: id, since: 0 });
    gate.release(15);
    fromK.send({ type: "subscribe", executionId: id, since: k });
    gate.release(15);
    await Promise.all([live, fromZero, fromK].map((c) => c.waitFor(isFinal(id))));

    const reference = live.events(id);
    assertContiguous(reference);
    expect(stageText(reference, "write")).toBe(chunks.join(""));
    expect(fromZero.events(id)).toEqual(reference);
    expect(fromK.events(id)).toEqual(reference.filter((e) => e.seq > k));
    const subscribed = fromK.messages.find((m) => m.type === "subscribed") as { lastSeq: number };
    expect(subscribed.lastSeq).toBeGreaterThanOrEqual(k);
  });

  test("20 concurrent subscribers receive identical streams", async () => {
    const gate = createGate();
    const chunks = Array.from({ length: 12 }, (_, i) => `part ${i}; `);
    h.fake.enqueue({ kind: "stream", chunks, gate });
    const id = await h.run("one", "many");
    const clients = await Promise.all(Array.from({ length: 20 }, () => h.ws()));
    clients.forEach((c, i) => {
      c.send({ type: "subscribe", executionId: id });
      if (i % 4 === 0) gate.release(1); // some join before, some during the stream
    });
    gate.release(chunks.length);
    await Promise.all(clients.map((c) => c.waitFor(isFinal(id))));
    const reference = clients[0]!.events(id);
    assertContiguous(reference);
    expect(stageText(reference, "write")).toBe(chunks.join(""));
    for (const c of clients) expect(c.events(id)).toEqual(reference);
  });

  test("a late joiner and a client that drops and reconnects mid-stage end with the model's exact text", async () => {
    const gate = createGate();
    const chunks = Array.from({ length: 30 }, (_, i) => `«${i}» ünïcödé 😀 ${"x".repeat(i * 7)}\n`);
    h.fake.enqueue({ kind: "stream", chunks, gate });
    const id = await h.run("one", "done criteria");
    const dropper = await h.ws();
    await dropper.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
    gate.release(8);
    await dropper.waitFor(outputReached("write", chunks.slice(0, 8).join("").length));
    dropper.close();
    await dropper.closed;
    const seen = dropper.events(id);
    const lastSeen = seen.at(-1)!.seq;

    gate.release(10); // produced while nobody is connected
    const late = await h.ws();
    late.send({ type: "subscribe", executionId: id });
    const back = await h.ws();
    back.send({ type: "subscribe", executionId: id, since: lastSeen });
    gate.release(12);
    await Promise.all([late.waitFor(isFinal(id)), back.waitFor(isFinal(id))]);

    const lateEvents = late.events(id);
    const rejoined = [...seen, ...back.events(id)];
    assertContiguous(lateEvents);
    assertContiguous(rejoined);
    const expected = chunks.join("");
    expect(stageText(lateEvents, "write")).toBe(expected);
    expect(stageText(rejoined, "write")).toBe(expected);
    expect(rejoined).toEqual(lateEvents);
  });
});
