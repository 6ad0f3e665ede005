// Agent-CLI stages run in a working directory of the run's own: a temp dir made when the first CLI
// stage starts, shared by the run's CLI stages and removed when the run ends; a stage's cwd wins.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { PipelineExecutor } from "../../src/core/executor.ts";
import { createCliProvider } from "../../src/providers/cli/index.ts";
import type { PipelineConfig } from "../../src/protocol/pipeline.ts";
import { FAKE_TOOL, Sandbox, basePath } from "../helpers/fake-cli/harness.ts";

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => box.cleanup());

function pipeline(stageCwd?: string): PipelineConfig {
  return {
    id: "cwd",
    name: "cwd",
    defaults: { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] } },
    stages: [
      { id: "a", prompt: "first" },
      { id: "b", prompt: "second", ...(stageCwd ? { model: { cwd: stageCwd } } : {}) },
    ],
  };
}

async function cwdsOf(p: PipelineConfig): Promise<{ cwds: string[]; existedDuring: boolean[] }> {
  const record = box.file("record.json");
  const provider = createCliProvider({
    env: { PATH: basePath(), FAKE_CLI_RAW: "1", FAKE_CLI_RECORD: record, FAKE_CLI_FIXTURE: box.file("out.txt", "done") },
  });
  const cwds: string[] = [];
  const existedDuring: boolean[] = [];
  const outcome = await new PipelineExecutor(p, {
    input: "x",
    resolveProvider: () => provider,
    callbacks: {
      onStageComplete: () => {
        const cwd = (JSON.parse(readFileSync(record, "utf8")) as { cwd: string }).cwd;
        cwds.push(cwd);
        existedDuring.push(existsSync(cwd));
      },
    },
  }).run();
  expect(outcome.status).toBe("success");
  return { cwds, existedDuring };
}

test("CLI stages share one temp dir made for the run, removed when it ends", async () => {
  const { cwds, existedDuring } = await cwdsOf(pipeline());
  expect(existedDuring).toEqual([true, true]);
  expect(cwds[0]).toBe(cwds[1]!);
  expect(cwds[0]!.startsWith(`${realpathSync(tmpdir())}/stagecast-run-`)).toBe(true);
  expect(existsSync(cwds[0]!)).toBe(false);
});

test("a stage's own cwd is used as given and never removed", async () => {
  const own = realpathSync(box.mkdir("project"));
  const { cwds } = await cwdsOf(pipeline(own));
  expect(cwds[1]).toBe(own);
  expect(existsSync(own)).toBe(true);
  expect(cwds[0]).not.toBe(own);
  expect(existsSync(cwds[0]!)).toBe(false);
});
