// One contract suite for every agent-CLI adapter: each tool is a row, replayed by the fake CLI
// (tests/helpers/fake-cli/fake-tool.ts) from recorded or documented JSON-lines fixtures.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CancelledError,
  CliExitError,
  CliNotFoundError,
  CliToolError,
  ProviderProtocolError,
} from "../../src/core/errors.ts";
import { createCliProvider } from "../../src/providers/cli/index.ts";
import type { Delta, ModelRequest } from "../../src/providers/types.ts";
import { FAKE_TOOL, FIXTURES, Sandbox, basePath, drain, isGone } from "../helpers/fake-cli/harness.ts";
import { ROWS } from "./cli-contract-rows.ts";

function fixtureLines(name: string): string[] {
  return readFileSync(path.join(FIXTURES, name), "utf8").replace(/\n$/, "").split("\n");
}

describe.each(ROWS)("cli provider contract: $tool", (row) => {
  let box: Sandbox;
  beforeEach(() => {
    box = new Sandbox();
  });
  afterEach(() => box.cleanup());

  function setup(extra: Record<string, string>, killGraceMs?: number) {
    const env: Record<string, string> = { PATH: basePath(), ...extra };
    if (row.binEnv) env[row.binEnv] = FAKE_TOOL;
    if (row.rawSplit) {
      env.FAKE_CLI_RAW = "1";
      env.FAKE_CLI_RAW_SPLIT = String(row.rawSplit);
    }
    const provider = createCliProvider({ env, killGraceMs });
    const request = (over: Partial<ModelRequest> = {}): ModelRequest => ({
      model: row.model(FAKE_TOOL),
      prompt: "Say hi",
      cwd: box.mkdir("work"),
      ...over,
    });
    return { provider, request };
  }

  const allTexts = (): Delta[] => row.texts.map(([, text]) => ({ type: "text", text }));
  /** Ungated, lines are still exact deltas; raw output may reach us in other chunk sizes. */
  function expectAll(items: Delta[]) {
    if (!row.rawSplit) return expect(items).toEqual([...allTexts(), row.finish]);
    const texts = items.slice(0, -1).map((d) => (d.type === "text" ? d.text : `<${d.type}>`));
    expect(texts.join("")).toBe(row.texts.map(([, text]) => text).join(""));
    expect(texts.every((text) => text.length > 0)).toBe(true);
    expect(items.at(-1)).toEqual(row.finish);
  }

  test("each delta arrives before the next line is even printed", async () => {
    const gate = box.gate();
    const { provider, request } = setup({ FAKE_CLI_FIXTURE: path.join(FIXTURES, row.fixture), FAKE_CLI_GATE: gate.path });
    const it = provider.stream(request(), { signal: new AbortController().signal })[Symbol.asyncIterator]();
    let released = 0;
    for (const [line, text] of row.texts) {
      gate.release(line - released);
      released = line;
      expect((await it.next()).value).toEqual({ type: "text", text });
    }
    gate.close();
    const rest: Delta[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(rest).toEqual([row.finish]);
  });

  test("exact text, usage and cost; argv, stdin and cwd as specified", async () => {
    const { provider, request } = setup({
      FAKE_CLI_FIXTURE: path.join(FIXTURES, row.fixture),
      FAKE_CLI_RECORD: box.file("record.json"),
    });
    const req = request({ model: { ...row.model(FAKE_TOOL), model: "m-1" }, system: "Be brief." });
    const { items, error } = await drain(provider.stream(req, { signal: new AbortController().signal }));
    expect(error).toBeUndefined();
    expectAll(items);
    const record = box.readJson<{ argv: string[]; stdin: string; cwd: string; env: unknown }>("record.json");
    expect(record.argv).toEqual(row.argv);
    expect(record.env).toEqual(row.childEnv);
    expect(record.stdin).toBe(row.stdin);
    expect(record.cwd).toBe(realpathSync(req.cwd as string));
  });

  test("without a cwd it runs in a fresh temp dir that is removed afterwards", async () => {
    const { provider, request } = setup({
      FAKE_CLI_FIXTURE: path.join(FIXTURES, row.fixture),
      FAKE_CLI_RECORD: box.file("record.json"),
    });
    const { error } = await drain(provider.stream(request({ cwd: undefined }), { signal: new AbortController().signal }));
    expect(error).toBeUndefined();
    const { cwd } = box.readJson<{ cwd: string }>("record.json");
    expect(path.dirname(cwd)).toBe(realpathSync(tmpdir()));
    expect(path.basename(cwd).startsWith("stagecast-cli-")).toBe(true);
    expect(existsSync(cwd)).toBe(false);
  });

  test("a non-zero exit is a CliExitError with the code and the stderr tail; earlier text is kept", async () => {
    const cut = row.texts[1]?.[0] ?? 1;
    const fixture = row.rawSplit
      ? box.file("partial.txt", readFileSync(path.join(FIXTURES, row.fixture), "utf8").slice(0, 15))
      : box.file("partial.jsonl", `${fixtureLines(row.fixture).slice(0, cut).join("\n")}\n`);
    const stderr = Array.from({ length: 25 }, (_, i) => `err ${i + 1}`).join("\n");
    const { provider, request } = setup({ FAKE_CLI_FIXTURE: fixture, FAKE_CLI_EXIT: "3", FAKE_CLI_STDERR: `${stderr}\n` });
    const { items, error } = await drain(provider.stream(request(), { signal: new AbortController().signal }));
    const expected: Delta[] = row.rawSplit
      ? [{ type: "text", text: "\u001b[1;34mPlan\u001b[0m" }]
      : row.texts.slice(0, 2).map(([, text]) => ({ type: "text", text }));
    expect(items).toEqual(expected);
    expect(error).toBeInstanceOf(CliExitError);
    const exit = error as CliExitError;
    const tail = Array.from({ length: 20 }, (_, i) => `err ${i + 6}`).join("\n");
    expect(exit.exitCode).toBe(3);
    expect(exit.signal).toBeNull();
    expect(exit.stderrTail).toBe(tail);
    const label = row.tool === "command" ? `command ${JSON.stringify(FAKE_TOOL)}` : row.tool;
    expect(exit.message).toBe(`${label} exited with code 3; last stderr lines:\n${tail}`);
  });

  if (row.toolError !== undefined) {
    test("the tool's own error report is a CliToolError with its message", async () => {
      const spec = row.toolError!;
      const { provider, request } = setup({
        FAKE_CLI_FIXTURE: path.join(FIXTURES, spec.fixture),
        FAKE_CLI_EXIT: String(spec.exit),
        FAKE_CLI_STDERR: "warn: one\n",
      });
      const { items, error } = await drain(provider.stream(request(), { signal: new AbortController().signal }));
      expect(items).toEqual(spec.texts.map((text) => ({ type: "text", text })));
      expect(error).toBeInstanceOf(CliToolError);
      expect((error as CliToolError).exitCode).toBe(spec.exit);
      expect((error as CliToolError).message).toBe(spec.message);
      expect((error as CliToolError).retryable).toBe(false);
    });
  }

  if (row.malformed) {
    test("a malformed line is a ProviderProtocolError quoting it; earlier text is kept", async () => {
      const [firstLine, firstText] = row.texts[0]!;
      const lines = fixtureLines(row.fixture);
      const bad = `oops {not json ${"x".repeat(300)}`;
      const fixture = box.file("bad.jsonl", `${[...lines.slice(0, firstLine), bad, ...lines.slice(firstLine)].join("\n")}\n`);
      const { provider, request } = setup({ FAKE_CLI_FIXTURE: fixture });
      const { items, error } = await drain(provider.stream(request(), { signal: new AbortController().signal }));
      expect(items).toEqual([{ type: "text", text: firstText }]);
      expect(error).toBeInstanceOf(ProviderProtocolError);
      expect((error as Error).message).toBe(
        `cli: ${row.tool} printed a line that is not JSON at line ${firstLine + 1}: ` +
          `${JSON.stringify(`${bad.slice(0, 200)}…`)}; stderr was empty`,
      );
    });
  }

  test("a tool that prints nothing is a clear error carrying its stderr", async () => {
    const { provider, request } = setup({ FAKE_CLI_FIXTURE: box.file("empty.txt", ""), FAKE_CLI_STDERR: "starting up\n" });
    const { items, error } = await drain(provider.stream(request(), { signal: new AbortController().signal }));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(ProviderProtocolError);
    const label = row.tool === "command" ? `command ${JSON.stringify(FAKE_TOOL)}` : row.tool;
    expect((error as Error).message).toBe(
      `cli: ${label} printed no output (exit code 0); last stderr lines:\nstarting up`,
    );
  });

  test("a missing tool is a CliNotFoundError with an install hint", async () => {
    const provider = createCliProvider({ env: { PATH: box.mkdir("empty-bin") } });
    const req: ModelRequest = { model: row.missing.model, prompt: "Say hi", cwd: box.mkdir("work") };
    const { items, error } = await drain(provider.stream(req, { signal: new AbortController().signal }));
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(CliNotFoundError);
    expect((error as Error).message).toBe(row.missing.message);
  });

  if (row.binEnv !== undefined) {
    test("the tool is found on PATH by its name", async () => {
      const bin = box.mkdir("bin");
      symlinkSync(FAKE_TOOL, path.join(bin, row.tool));
      const provider = createCliProvider({
        env: { PATH: basePath(bin), FAKE_CLI_FIXTURE: path.join(FIXTURES, row.fixture) },
      });
      const req: ModelRequest = { model: row.model(FAKE_TOOL), prompt: "Say hi", cwd: box.mkdir("work") };
      const { items, error } = await drain(provider.stream(req, { signal: new AbortController().signal }));
      expect(error).toBeUndefined();
      expectAll(items);
    });
  }

  for (const ignoreTerm of [false, true]) {
    test(`abort kills the whole process group, grandchild included${ignoreTerm ? " (SIGTERM ignored: SIGKILL)" : ""}`, async () => {
      const gate = box.gate();
      const { provider, request } = setup(
        {
          FAKE_CLI_FIXTURE: path.join(FIXTURES, row.fixture),
          FAKE_CLI_GATE: gate.path,
          FAKE_CLI_PIDFILE: box.file("pid"),
          FAKE_CLI_GRANDCHILD: box.file("grandchild-pid"),
          ...(ignoreTerm ? { FAKE_CLI_IGNORE_TERM: "1" } : {}),
        },
        50,
      );
      const controller = new AbortController();
      const it = provider.stream(request(), { signal: controller.signal })[Symbol.asyncIterator]();
      const [firstLine, firstText] = row.texts[0]!;
      gate.release(firstLine);
      expect((await it.next()).value).toEqual({ type: "text", text: firstText });
      // Both pid files are written before the first line is printed.
      const pids = [box.readPid("pid"), box.readPid("grandchild-pid")];
      expect(pids.map(isGone)).toEqual([false, false]);
      const reason = new CancelledError("stop now");
      controller.abort(reason);
      const settled = await it.next().then(
        () => "resolved",
        (err: unknown) => err,
      );
      expect(settled).toBe(reason);
      expect(pids.map(isGone)).toEqual([true, true]);
    });
  }
});
