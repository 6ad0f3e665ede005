// The `stagecast` command as a user runs it: a real process, real files, a fake model server.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { WireEventSchema, type WireEvent } from "../../src/protocol/events.ts";
import { createGate, startFakeOpenAI, type FakeModelServer } from "../helpers/fake-openai.ts";
import { lines } from "../helpers/server-client.ts";

const ENTRY = resolve(import.meta.dir, "../../src/cli/main.ts");
let fake: FakeModelServer;
let dir: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  dir = mkdtempSync(join(tmpdir(), "stagecast-cli-"));
  mkdirSync(join(dir, "pipelines"));
  writeFileSync(
    join(dir, "pipelines", "two-step.yaml"),
    `id: two-step
name: Two step
defaults:
  model: { provider: openai-compatible, model: fake, baseURL: "${fake.url}" }
  retries: 0
stages:
  - id: first
    prompt: "Say: {{input}}"
  - id: second
    prompt: "Repeat: {{stages.first.output}}"
`,
  );
});
afterAll(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function spawnCli(args: string[], opts: { cwd?: string; stdin?: string } = {}) {
  return Bun.spawn(["bun", ENTRY, ...args], {
    cwd: opts.cwd ?? dir,
    stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", STAGECAST_DATA_DIR: join(dir, "data") },
  });
}

async function cli(args: string[], opts: { cwd?: string; stdin?: string } = {}) {
  const proc = spawnCli(args, opts);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("stagecast run", () => {
  test("--json prints exactly the wire events, one per line, and writes a result file", async () => {
    fake.enqueue({ kind: "stream", chunks: ["héllo", " 😀", " world"] }, { kind: "stream", chunks: ["again"] });
    const { stdout, stderr, code } = await cli(["run", "two-step", "--input", "hi", "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const events = stdout.trimEnd().split("\n").map((l) => WireEventSchema.parse(JSON.parse(l)) as WireEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: "execution:started", pipelineId: "two-step", input: "hi" });
    expect(events.at(-1)).toMatchObject({ type: "execution:completed", result: { status: "success" } });
    const text = (id: string) =>
      events.filter((e) => e.type === "stage:output" && e.stageId === id).map((e) => (e as { output: string }).output).join("");
    expect(text("first")).toBe("héllo 😀 world");
    expect(text("second")).toBe("again");
    const results = readdirSync(join(dir, "data", "results"));
    const mine = results.filter((f) => f.includes(events[0]!.executionId.slice(0, 8)));
    expect(mine.length).toBe(1);
    const saved = JSON.parse(readFileSync(join(dir, "data", "results", mine[0]!), "utf8"));
    expect(saved).toMatchObject({ status: "success", pipelineId: "two-step", stages: { second: { output: "again" } } });
  });

  test("terminal mode streams each stage under its header and ends with the figures", async () => {
    fake.enqueue({ kind: "stream", chunks: ["one"] }, { kind: "stream", chunks: ["two"] });
    const { stdout, code } = await cli(["run", "two-step"], { stdin: "piped input" });
    expect(code).toBe(0);
    expect(stdout).toContain("[1/2] first  (openai-compatible · fake)\none\n✓ first · ");
    expect(stdout).toContain("[2/2] second  (openai-compatible · fake)\ntwo\n✓ second · ");
    expect(stdout).toMatch(/✓ success · 2 completed · /);
    expect(stdout).toMatch(/result: .*two-step-.*\.json\n$/);
    expect(fake.modelRequests.at(-2)!.body).toMatchObject({ messages: [{ role: "user", content: "Say: piped input" }] });
  });

  test("a failed stage exits 1 and keeps the streamed text", async () => {
    fake.enqueue({ kind: "cut", chunks: ["half"] });
    const { stdout, code } = await cli(["run", "two-step", "--input", "x"]);
    expect(code).toBe(1);
    expect(stdout).toContain("half\n✗ first failed: ");
    expect(stdout).toContain("– second skipped: not run: an earlier stage failed");
  });

  test("SIGINT cancels the in-flight model call at once: exit 130, execution:cancelled last", async () => {
    const abortedBefore = fake.aborted;
    const gate = createGate();
    fake.enqueue({ kind: "stream", chunks: ["started", " never sent"], gate });
    gate.release(1);
    const proc = spawnCli(["run", "two-step", "--input", "x", "--json"]);
    const events: WireEvent[] = [];
    let interrupted = false;
    for await (const line of lines(proc.stdout)) {
      const event = JSON.parse(line) as WireEvent;
      events.push(event);
      // Interrupt once the stage is streaming; the rest of the output is read to its end.
      if (!interrupted && event.type === "stage:output") {
        interrupted = true;
        proc.kill("SIGINT");
      }
    }
    expect(await proc.exited).toBe(130);
    await fake.whenAborted(abortedBefore + 1);
    expect(events.at(-1)).toMatchObject({ type: "execution:cancelled" });
    expect(gate.released).toBe(1);
  });

  test("usage errors are one line on stderr with exit 2, never a stack trace", async () => {
    const cases: [string[], string][] = [
      [["run", "two-step", "--bogus"], "error: Unknown option '--bogus'"],
      [["run", "two-step"], "error: no input: pass --input TEXT, --input-file FILE, or pipe text on stdin"],
      [["run", "two-step", "--input", "x", "--mode", "cloud"], 'error: --mode must be one of api, cli, local; got "cloud"'],
      [["run", "two-step", "--input-file", "/nope/missing.txt"], "error: cannot read --input-file /nope/missing.txt: ENOENT"],
      [["frobnicate"], 'error: unknown command "frobnicate"'],
    ];
    for (const [args, message] of cases) {
      const { stderr, code, stdout } = await cli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr.startsWith(message)).toBe(true);
      expect(stderr).not.toContain("    at ");
      expect(stdout).toBe("");
    }
  });

  test("an unknown pipeline says what exists", async () => {
    const { stderr, code } = await cli(["run", "nope", "--input", "x"]);
    expect(code).toBe(1);
    expect(stderr).toContain('unknown pipeline "nope"');
    expect(stderr).toContain("demo");
  });
});

describe("stagecast validate, list, init", () => {
  test("validate reports every problem with its path and exits 1", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      `id: Bad_Id
name: Bad
stages:
  - id: a
    model: { provider: nope }
    prompt: "{{stages.zzz.output}}"
  - id: a
    prompt: "ok"
`,
    );
    const { stdout, code } = await cli(["validate", file]);
    expect(code).toBe(1);
    expect(stdout).toContain('id: "Bad_Id" must match [a-z0-9-]+');
    expect(stdout).toContain("stages[0].model.provider: unknown provider");
    expect(stdout).toContain("stages[0].prompt: unknown variable {{stages.zzz.output}}");
    expect(stdout).toContain("stages[1].id: duplicate");
    const json = await cli(["validate", file, "--json"]);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.valid).toBe(false);
    expect(parsed.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(["id", "stages[0].model.provider", "stages[0].prompt", "stages[1].id"]));
  });

  test("run shows the same errors as validate", async () => {
    const { stderr, code } = await cli(["run", join(dir, "bad.yaml"), "--input", "x"]);
    expect(code).toBe(1);
    expect(stderr).toContain("stages[0].prompt: unknown variable {{stages.zzz.output}}");
  });

  test("list shows built-ins and local pipelines, from any working directory", async () => {
    const { stdout, code } = await cli(["list", "--json"]);
    expect(code).toBe(0);
    const ids = JSON.parse(stdout).map((p: { id: string }) => p.id);
    expect(ids).toEqual(expect.arrayContaining(["demo", "prompt-optimizer", "summarize-critique", "code-review", "two-step"]));
  });

  test("init writes a valid pipeline and refuses to overwrite it", async () => {
    const first = await cli(["init", "my-flow"]);
    expect(first.code).toBe(0);
    expect(existsSync(join(dir, "pipelines", "my-flow.yaml"))).toBe(true);
    expect((await cli(["validate", "my-flow"])).code).toBe(0);
    const again = await cli(["init", "my-flow"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists");
  });
});
