// The in-memory output tail and its rebuild from the event log: at most the budget in UTF-8 bytes,
// always a suffix of the real text, never a split character, and retries void earlier attempts.
import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { EventLog } from "../../src/server/event-log.ts";
import { type NewestFirstEvent, OutputTail, tailFromNewestFirst, utf8Bytes } from "../../src/server/output-tail.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe("OutputTail", () => {
  test("utf8Bytes matches TextEncoder, surrogate pairs included", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => utf8Bytes(s) === bytes(s)));
  });

  test("holds at most the budget over all stages, each stage's text a suffix of the real one", () => {
    const stageIds = ["a", "b", "c"];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...stageIds), fc.string({ unit: "grapheme", maxLength: 40 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 200 }),
        (appends, budget) => {
          const tail = new OutputTail(budget);
          const full: Record<string, string> = {};
          for (const [id, chunk] of appends) {
            const offset = (full[id] ?? "").length;
            full[id] = (full[id] ?? "") + chunk;
            // A stage's first chunk has offset 0 (as on the wire), so only a later one continues it.
            if (offset === 0 && chunk === "") continue;
            tail.append(id, chunk, offset);
          }
          let held = 0;
          for (const id of stageIds) {
            const view = tail.get(id);
            const text = full[id] ?? "";
            if (!view) continue;
            held += bytes(view.output);
            if (!text.endsWith(view.output) || !view.output.isWellFormed()) return false;
            if (view.outputLength !== text.length || view.outputTruncated !== (view.output !== text)) return false;
          }
          return held <= budget && held === tail.heldBytes;
        },
      ),
    );
  });

  test("the oldest stage is trimmed first and a chunk is cut on a character boundary", () => {
    const tail = new OutputTail(10);
    tail.append("a", "abcdef", 0);
    tail.append("b", "日本語", 0); // 9 bytes: "a" keeps 1 byte
    expect([tail.get("a"), tail.get("b")]).toEqual([
      { output: "f", outputLength: 6, outputTruncated: true },
      { output: "日本語", outputLength: 3, outputTruncated: false },
    ]);
    tail.append("b", "é", 3); // 11 bytes in "b" alone: "日" goes (never half of it)
    expect([tail.get("a")?.output, tail.get("b")]).toEqual(["", { output: "本語é", outputLength: 4, outputTruncated: true }]);
  });

  test("a tail rebuilt from the log, read newest first, matches the tail kept live", () => {
    // Stages run one after another; each may retry (voiding its text so far) before its last attempt.
    const stagePlan = fc.array(
      fc.array(fc.array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 6 }), {
        minLength: 1,
        maxLength: 3,
      }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(stagePlan, fc.integer({ min: 1, max: 300 }), (stages, budget) => {
        const live = new OutputTail(budget);
        const log: NewestFirstEvent[] = [];
        stages.forEach((attempts, i) => {
          const stageId = `s${i}`;
          attempts.forEach((chunks, attempt) => {
            if (attempt > 0) {
              live.reset(stageId);
              log.push({ stageId, retry: true });
            }
            let offset = 0;
            for (const output of chunks) {
              live.append(stageId, output, offset);
              log.push({ stageId, output, offset });
              offset += output.length;
            }
          });
        });
        const rebuilt = tailFromNewestFirst(log.reverse(), budget);
        const retried = stages.some((attempts) => attempts.length > 1);
        return stages.every((attempts, i) => {
          const text = (attempts.at(-1) as string[]).join("");
          // A stage trimmed to nothing may be absent from either tail: the snapshot then shows "".
          const a = live.get(`s${i}`)?.output ?? "";
          const b = rebuilt.get(`s${i}`)?.output ?? "";
          const lengthsAgree = [live.get(`s${i}`), rebuilt.get(`s${i}`)].every((v) => !v || v.outputLength === text.length);
          // Without retries both hold exactly the same; a retry frees room that the live tail, having
          // already dropped older text, cannot refill, so there it may hold less — never other text.
          return lengthsAgree && text.endsWith(b) && (retried ? b.endsWith(a) : a === b);
        });
      }),
    );
  });

  test("offset 0 starts a stage over (a retry)", () => {
    const tail = new OutputTail(100);
    tail.append("a", "first try", 0);
    tail.append("a", "second", 0);
    expect([tail.get("a")?.output, tail.heldBytes]).toEqual(["second", 6]);
  });
});

describe("EventLog", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const ev = (seq: number, e: Record<string, unknown>) => ({ executionId: "x", seq, ts: 1000 + seq, ...e }) as WireEvent;
  const stage = { id: "s", name: "s", type: "generate" };

  test("a retried stage's full output and tail are its last attempt only; running work is interrupted on reopen", () => {
    dir = mkdtempSync(join(tmpdir(), "stagecast-log-"));
    const log = new EventLog(dir);
    log.createExecution({ id: "x", pipelineId: "p", pipelineName: "P", input: "in", createdAt: 1, stages: [stage] });
    const events = [
      ev(1, { type: "execution:started", pipelineId: "p", pipelineName: "P", input: "in", stages: [stage] }),
      ev(2, { type: "stage:started", stage, index: 0, total: 1 }),
      ev(3, { type: "stage:output", stageId: "s", output: "void ", offset: 0, isFinal: false }),
      ev(4, { type: "stage:output", stageId: "s", output: "attempt", offset: 5, isFinal: true }),
      ev(5, { type: "stage:retrying", stageId: "s", attempt: 2, error: "HTTP 500" }),
      ev(6, { type: "stage:output", stageId: "s", output: "kept ", offset: 0, isFinal: false }),
      ev(7, { type: "stage:output", stageId: "s", output: "text", offset: 5, isFinal: false }),
    ];
    for (const e of events) log.append(e, JSON.stringify(e));
    expect(log.flush().map((f) => f.event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([...log.stageOutput("x", "s")].join("")).toBe("kept text");
    expect(log.tailFromLog("x").get("s")).toEqual({ output: "kept text", outputLength: 9, outputTruncated: false });
    expect(log.readEvents("x", 5, 10).map((r) => r.seq)).toEqual([6, 7]);
    log.close();

    const reopened = new EventLog(dir);
    expect(reopened.interruptedOnOpen).toEqual(["x"]);
    expect([reopened.getExecution("x")?.status, reopened.getStages("x")[0]?.status, reopened.getStages("x")[0]?.output_length]).toEqual([
      "interrupted",
      "cancelled",
      9,
    ]);
    reopened.close();
  });

  test("after execution:failed no stage is left running or pending; a restart cancels stages that never started", () => {
    dir = mkdtempSync(join(tmpdir(), "stagecast-log-"));
    const log = new EventLog(dir);
    const two = { id: "t", name: "t", type: "generate" };
    const start = (id: string) => {
      log.createExecution({ id, pipelineId: "p", pipelineName: "P", input: "in", createdAt: 1, stages: [stage, two] });
      const at = (seq: number, e: Record<string, unknown>) => ({ ...ev(seq, e), executionId: id }) as WireEvent;
      for (const e of [
        at(1, { type: "execution:started", pipelineId: "p", pipelineName: "P", input: "in", stages: [stage, two] }),
        at(2, { type: "stage:started", stage, index: 0, total: 2 }),
        at(3, { type: "stage:output", stageId: "s", output: "partial", offset: 0, isFinal: false }),
      ])
        log.append(e, JSON.stringify(e));
      return at;
    };
    const crash = start("x");
    const failed = crash(4, { type: "execution:failed", error: "engine defect" });
    log.append(failed, JSON.stringify(failed));
    start("y"); // left running: the server dies here
    log.flush();
    const statuses = (l: EventLog, id: string) => l.getStages(id).map((r) => [r.stage_id, r.status, r.error]);
    expect(statuses(log, "x")).toEqual([
      ["s", "failed", "engine defect"],
      ["t", "cancelled", null],
    ]);
    log.close();
    const reopened = new EventLog(dir);
    expect(reopened.interruptedOnOpen).toEqual(["y"]);
    expect(statuses(reopened, "y")).toEqual([
      ["s", "cancelled", "interrupted"],
      ["t", "cancelled", "interrupted"],
    ]);
    expect([...reopened.stageOutput("y", "s")].join("")).toBe("partial");
    reopened.close();
  });
});
