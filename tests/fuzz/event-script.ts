// Generates event sequences exactly as the server can produce them (the executor's order: started,
// per stage skipped or started → chunks → retries → completed/failed, then one final event), with
// the text each stage should end with. Shared by the reducer properties.
import fc from "fast-check";
import { splitUtf8 } from "../../src/core/chunker.ts";
import type { StageRef, UnstampedEvent, WireEvent } from "../../src/protocol/events.ts";

export interface StagePlan {
  kind: "skip" | "run";
  /** each attempt's deltas; all but the last end in a retry */
  attempts: string[][];
  /** how the last attempt ends */
  end: "completed" | "failed";
}

export interface ExecutionPlan {
  stages: StagePlan[];
  /** cancel (or crash) during stage `at`'s last attempt, after `afterDeltas` of its deltas */
  interrupt: { kind: "cancel" | "crash"; at: number; afterDeltas: number } | null;
  continueOnError: boolean;
}

export interface Generated {
  events: WireEvent[];
  /** each stage's expected final status and text (of the attempt that counts) */
  expected: Map<string, { status: string; text: string }>;
  executionStatus: string;
}

const delta = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 8 }), fc.constantFrom("😀", "é", "\n", "x".repeat(5000)));
const attempt = fc.array(delta, { maxLength: 6 });
const stagePlan: fc.Arbitrary<StagePlan> = fc.record({
  kind: fc.constantFrom<"skip" | "run">("skip", "run", "run", "run"),
  attempts: fc.array(attempt, { minLength: 1, maxLength: 3 }),
  end: fc.constantFrom<"completed" | "failed">("completed", "completed", "completed", "failed"),
});

export const executionPlan: fc.Arbitrary<ExecutionPlan> = fc
  .array(stagePlan, { minLength: 1, maxLength: 4 })
  .chain((stages) =>
    fc.record({
      stages: fc.constant(stages),
      interrupt: fc.option(
        fc.record({ kind: fc.constantFrom<"cancel" | "crash">("cancel", "cancel", "crash"), at: fc.integer({ min: 0, max: stages.length - 1 }), afterDeltas: fc.integer({ min: 0, max: 6 }) }),
        { freq: 2 },
      ),
      continueOnError: fc.boolean(),
    }),
  );

/** The events the executor would emit for `plan`, chunked by the real splitter, stamped 1..n. */
export function generate(plan: ExecutionPlan, executionId = "exec-1"): Generated {
  const events: WireEvent[] = [];
  let seq = 0;
  const emit = (e: UnstampedEvent) => events.push({ ...e, executionId, seq: ++seq, ts: 1_700_000_000_000 + seq } as WireEvent);
  const refs: StageRef[] = plan.stages.map((_, i) => ({ id: `s${i}`, name: `Stage ${i}`, type: "generate" }));
  const expected = new Map<string, { status: string; text: string }>(refs.map((r) => [r.id, { status: "pending", text: "" }]));
  emit({ type: "execution:started", pipelineId: "p", pipelineName: "P", input: "in", stages: refs });
  let failed = false;
  let executionStatus = "success";
  for (const [i, stage] of plan.stages.entries()) {
    const ref = refs[i] as StageRef;
    if (failed || stage.kind === "skip") {
      emit({ type: "stage:skipped", stage: ref, reason: failed ? "not run: an earlier stage failed" : "skipIf met" });
      expected.set(ref.id, { status: "skipped", text: "" });
      continue;
    }
    emit({ type: "stage:started", stage: ref, index: i, total: refs.length });
    expected.set(ref.id, { status: "running", text: "" });
    for (const [a, deltas] of stage.attempts.entries()) {
      const last = a === stage.attempts.length - 1;
      const interrupted = last && plan.interrupt?.at === i ? plan.interrupt : null;
      const sent = interrupted ? deltas.slice(0, interrupted.afterDeltas) : deltas;
      let offset = 0;
      const text = sent.join("");
      for (const piece of text.length ? splitUtf8(text) : []) {
        emit({ type: "stage:output", stageId: ref.id, output: piece, offset, isFinal: false });
        offset += piece.length;
      }
      if (interrupted) {
        if (interrupted.kind === "cancel") {
          // Cancel: the stage's coalescer is finished (what was pending goes out), then the run ends.
          emit({ type: "stage:output", stageId: ref.id, output: "", offset, isFinal: true });
          emit({ type: "execution:cancelled", reason: "cancelled by user" });
          expected.set(ref.id, { status: "cancelled", text });
          executionStatus = "cancelled";
        } else {
          emit({ type: "execution:failed", error: "engine defect" });
          expected.set(ref.id, { status: "failed", text });
          executionStatus = "failed";
        }
        // Stages that never started end cancelled: nothing follows a final event.
        for (const r of refs.slice(i + 1)) expected.set(r.id, { status: "cancelled", text: "" });
        return { events, expected, executionStatus };
      }
      if (!last) {
        // A retry resets the coalescer (no final chunk): the attempt's text so far is void.
        emit({ type: "stage:retrying", stageId: ref.id, attempt: a + 2, error: "429 rate limited" });
        continue;
      }
      // The coalescer's last chunk of a finished attempt carries isFinal (empty when nothing was pending).
      emit({ type: "stage:output", stageId: ref.id, output: "", offset, isFinal: true });
      if (stage.end === "completed") {
        emit({ type: "stage:completed", stage: ref, result: { status: "completed", cost: 0, duration: 1, usage: { inputTokens: 1, outputTokens: 1 } } });
        expected.set(ref.id, { status: "completed", text });
      } else {
        emit({ type: "stage:failed", stage: ref, error: "boom", code: "provider_error" });
        expected.set(ref.id, { status: "failed", text });
        if (!plan.continueOnError) {
          failed = true;
          executionStatus = "failed";
        }
      }
    }
  }
  emit({
    type: "execution:completed",
    result: {
      status: executionStatus as "success" | "failed",
      summary: { stagesCompleted: 0, stagesSkipped: 0, stagesFailed: 0, totalCost: 0, totalDuration: 1, usage: { inputTokens: 0, outputTokens: 0 }, finalStageId: null },
    },
  });
  return { events, expected, executionStatus };
}
