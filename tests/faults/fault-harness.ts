// What every fault test checks after the fault, end to end through a real server: the execution and
// its stages end in the right states; everything streamed is kept (REST snapshot, REST full output
// and a WebSocket replay from 0 agree with what was streamed live); the executor's event queue was
// closed (its `events()` stream ended with the final event); and no timer is left behind.
import { heapStats } from "bun:jsc";
import { expect } from "bun:test";
import { PipelineExecutor } from "../../src/core/executor.ts";
import type { WireEvent } from "../../src/protocol/events.ts";
import type { ExecutorFactory } from "../../src/server/execution-manager.ts";
import { type Harness, WsClient, assertContiguous, isFinal, stageText } from "../server/harness.ts";

/** An executor factory that also drains each executor's pull stream, which ends only when its queue closes. */
export function trackingFactory(): { factory: ExecutorFactory; streams: Map<string, Promise<WireEvent[]>> } {
  const streams = new Map<string, Promise<WireEvent[]>>();
  const factory: ExecutorFactory = (pipeline, options) => {
    const executor = new PipelineExecutor(pipeline, options);
    streams.set(
      executor.executionId,
      (async () => {
        const events: WireEvent[] = [];
        for await (const e of executor.events()) events.push(e);
        return events;
      })(),
    );
    return executor;
  };
  return { factory, streams };
}

/**
 * Live JS timers (setTimeout/setInterval not yet fired or cleared). Bun's
 * `process.getActiveResourcesInfo()` always returns [] (oven-sh/bun#24538; the fix, #27149, was not
 * merged), so this counts the `Timeout` objects that survive a full GC: a cleared or fired timer is
 * garbage, a pending one is held by the event loop.
 */
export function liveTimers(): number {
  Bun.gc(true);
  return (heapStats().objectTypeCounts as Record<string, number>).Timeout ?? 0;
}

/**
 * The live-timer count once it has settled back to `baseline`, or the lowest count seen in `turns`
 * turns of the event loop. `bun test` runs every file in one process, so a timer of an earlier file
 * may still be firing its last tick at any single instant; a timer this test leaked stays alive
 * through every turn and is still counted.
 */
export async function settledTimers(baseline: number, turns = 200): Promise<number> {
  let lowest = liveTimers();
  for (let i = 0; i < turns && lowest > baseline; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    lowest = Math.min(lowest, liveTimers());
  }
  return lowest;
}

export type StageExpectation = [stageId: string, status: string, text: string];

/**
 * Checks an ended execution through REST and a fresh WebSocket replay from 0, against what `live`
 * (a viewer subscribed during the run) saw. Returns the replayed events.
 */
export async function expectKept(
  h: Pick<Harness, "api" | "wsUrl">,
  id: string,
  expected: { status: string; stages: StageExpectation[] },
  live?: WsClient,
): Promise<WireEvent[]> {
  const snap = (await (await h.api(`/api/executions/${id}`)).json()) as Record<string, any>;
  expect(snap.status).toBe(expected.status);
  expect(snap.stages.map((s: any) => [s.id, s.status, s.output])).toEqual(expected.stages);
  for (const [stageId, , text] of expected.stages) {
    const full = await h.api(`/api/executions/${id}/stages/${stageId}/output`);
    expect(full.status).toBe(200);
    expect(await full.text()).toBe(text);
  }
  const replay = await WsClient.open(h.wsUrl);
  try {
    const subscribed = await replay.request({ type: "subscribe", executionId: id }, (m) => m.type === "subscribed");
    expect(subscribed.lastSeq).toBe(snap.lastSeq);
    if (snap.lastSeq > 0) await replay.waitFor((m) => m.seq === snap.lastSeq);
    const events = replay.events(id);
    assertContiguous(events);
    expect(events.length).toBe(snap.lastSeq);
    for (const [stageId, , text] of expected.stages) expect(stageText(events, stageId)).toBe(text);
    if (live) {
      await live.waitFor(isFinal(id));
      expect(live.events(id)).toEqual(events);
    }
    return events;
  } finally {
    replay.close();
    await replay.closed;
  }
}

/** Outline of the events: type plus stage id, without output chunks. */
export function outline(events: WireEvent[]): string[] {
  return events
    .filter((e) => e.type !== "stage:output")
    .map((e) => ("stage" in e ? `${e.type} ${e.stage.id}` : "stageId" in e ? `${e.type} ${e.stageId}` : e.type));
}
