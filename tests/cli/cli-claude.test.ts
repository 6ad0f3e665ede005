// Issue "CLI execution mode", end to end: `stagecast run … --mode cli --tool claude --json` drives the
// REAL Claude Code CLI (pinned dev dependency) against the fake Anthropic server. Each chunk the fake
// sends must come out as its own stage:output before the next chunk is even released.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { createGate, startFakeAnthropic, type FakeModelServer } from "../helpers/fake-anthropic.ts";
import { claudeEnv } from "../helpers/fake-cli/claude-env.ts";
import { lines } from "../helpers/server-client.ts";

const ENTRY = resolve(import.meta.dir, "../../src/cli/main.ts");
let fake: FakeModelServer;
let dir: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  dir = mkdtempSync(join(tmpdir(), "stagecast-cli-claude-"));
});
afterAll(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "run --mode cli --tool claude --json: several stage:output events per stage, exact text",
  async () => {
    const stages = [
      ["Alpha ", "beta ", "gamma."],
      ['{"verdict": ', '"ok", ', '"problems": []}'],
    ];
    const gates = stages.map(() => createGate());
    fake.enqueue(...stages.map((chunks, i) => ({ kind: "stream" as const, chunks, gate: gates[i] })));
    const proc = Bun.spawn(
      ["bun", ENTRY, "run", "summarize-critique", "--mode", "cli", "--tool", "claude", "--input", "The fox and the crow.", "--json"],
      {
        cwd: dir,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        env: { ...claudeEnv(join(dir, "home"), fake.url), STAGECAST_DATA_DIR: join(dir, "data") },
      },
    );
    const events: WireEvent[] = [];
    // Release the next chunk only after the previous one has come out as a stage:output event.
    let stage = 0;
    let released = 1;
    gates[0]!.release(1);
    for await (const line of lines(proc.stdout)) {
      const event = JSON.parse(line) as WireEvent;
      events.push(event);
      if (event.type === "stage:output" && event.output.length > 0 && stage < stages.length) {
        if (released < stages[stage]!.length) {
          gates[stage]!.release(1);
          released++;
        } else if (++stage < stages.length) {
          gates[stage]!.release(1);
          released = 1;
        }
      }
    }
    const code = await proc.exited;
    const stderr = await new Response(proc.stderr).text();
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    for (const [i, id] of ["summarize", "critique"].entries()) {
      const outputs = events.filter((e) => e.type === "stage:output" && e.stageId === id && e.output.length > 0);
      expect(outputs.map((e) => (e as { output: string }).output)).toEqual(stages[i]!);
      const completedAt = events.findIndex((e) => e.type === "stage:completed" && e.stage.id === id);
      expect(completedAt).toBeGreaterThan(events.lastIndexOf(outputs.at(-1)!));
      const completed = events[completedAt] as Extract<WireEvent, { type: "stage:completed" }>;
      expect(completed.result.costSource).toBe("tool");
    }
    // The critique said "ok", so the revise stage is skipped by its skipIf.
    expect(events.find((e) => e.type === "stage:skipped")).toMatchObject({ stage: { id: "revise" } });
    expect(events.at(-1)).toMatchObject({ type: "execution:completed", result: { status: "success" } });
  },
  120_000,
);
