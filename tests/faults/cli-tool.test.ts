// Faults of an agent CLI or command stage: the tool crashes, hangs past the timeout (ignoring
// SIGTERM), or prints garbage. The stage fails, what it printed before is kept, and the child is gone.
import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { FAKE_TOOL, FIXTURES, isGone } from "../helpers/fake-cli/harness.ts";
import { type Harness, isFinal, setup, stageText } from "../server/harness.ts";
import { expectKept, liveTimers, settledTimers, trackingFactory } from "./fault-harness.ts";

let h: Harness | undefined;
const savedEnv: Record<string, string | undefined> = {};
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    delete savedEnv[k];
  }
});

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!(k in savedEnv)) savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
}

async function start(id: string, model: string, stageExtra = "") {
  const tracked = trackingFactory();
  h = await setup({ createExecutor: tracked.factory });
  await writeFile(
    join(h.cwd, "pipelines", `${id}.yaml`),
    `id: ${id}\nname: ${id}\nstages:\n  - id: tool\n    model: ${model}\n    prompt: "{{input}}"\n    retries: 0\n${stageExtra}`,
  );
  return { h, streams: tracked.streams };
}

/** Runs the pipeline with a live viewer; returns the id, the live text and the failure event. */
async function runToEnd(h: Harness, pipelineId: string) {
  const live = await h.ws();
  const id = await h.run(pipelineId, "go");
  live.send({ type: "subscribe", executionId: id });
  await live.waitFor(isFinal(id));
  await h.server.manager.whenDone(id);
  const events = live.events(id);
  const failed = events.find((e): e is Extract<WireEvent, { type: "stage:failed" }> => e.type === "stage:failed");
  return { id, live, text: stageText(events, "tool"), failed };
}

const command = (script: string) => `{ provider: cli, tool: command, command: ${JSON.stringify(["bun", "-e", script])} }`;

test("a command that crashes mid-output: the stage fails with its exit code, the printed text is kept", async () => {
  const { h, streams } = await start(
    "crash",
    command("process.stdout.write('pid ' + process.pid + '\\n'); process.stdout.write('half of an answer\\n'); process.exit(3)"),
  );
  const timers = liveTimers();
  const { id, live, text, failed } = await runToEnd(h, "crash");
  expect(text).toMatch(/^pid \d+\nhalf of an answer\n$/);
  expect(failed?.code).toBe("cli_exit");
  expect(failed?.error).toContain("3");
  const events = await expectKept(h, id, { status: "failed", stages: [["tool", "failed", text]] }, live);
  expect(isGone(Number(/^pid (\d+)/.exec(text)?.[1]))).toBe(true);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});

test("a command that hangs past timeoutMs and ignores SIGTERM: killed, the stage fails with a timeout, text kept", async () => {
  const { h, streams } = await start(
    "hang",
    command("process.on('SIGTERM', () => {}); process.stdout.write('pid ' + process.pid + '\\nworking…\\n'); setInterval(() => {}, 1 << 30)"),
    "    timeoutMs: 400\n",
  );
  const timers = liveTimers();
  const { id, live, text, failed } = await runToEnd(h, "hang");
  expect(text).toMatch(/^pid \d+\nworking…\n$/);
  expect(failed?.code).toBe("timeout");
  const events = await expectKept(h, id, { status: "failed", stages: [["tool", "failed", text]] }, live);
  // The child is reaped before the stage ends (SIGKILL after the grace period), so it is gone already.
  expect(isGone(Number(/^pid (\d+)/.exec(text)?.[1]))).toBe(true);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});

test("an agent CLI that prints garbage after some text: a protocol error, the text before it kept, the tool killed", async () => {
  const { h, streams } = await start("garbage", "{ provider: cli, tool: claude }");
  // The recorded Claude Code session up to its second text delta, then a line that is not JSON.
  const lines = readFileSync(join(FIXTURES, "claude-unicode.jsonl"), "utf8").split("\n").slice(0, 6);
  const fixture = join(h.dir, "garbage.jsonl");
  writeFileSync(fixture, `${lines.join("\n")}\n<html>502 Bad Gateway</html> {{{\n`);
  const pidFile = join(h.dir, "tool.pid");
  setEnv({ STAGECAST_CLAUDE_BIN: FAKE_TOOL, FAKE_CLI_FIXTURE: fixture, FAKE_CLI_PIDFILE: pidFile, FAKE_CLI_HANG: "1" });
  const timers = liveTimers();
  const { id, live, text, failed } = await runToEnd(h, "garbage");
  expect(text).toBe("Grüße — ");
  expect(failed?.code).toBe("provider_protocol");
  expect(failed?.error).toContain("502 Bad Gateway");
  const events = await expectKept(h, id, { status: "failed", stages: [["tool", "failed", "Grüße — "]] }, live);
  expect(isGone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
  expect(await streams.get(id)).toEqual(events);
  expect(await settledTimers(timers)).toBe(timers);
});
