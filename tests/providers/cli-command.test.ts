// The `command` tool: any program from the pipeline file, as an argv array, prompt on stdin,
// stdout as the stage's text byte for byte (ANSI colour codes included).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { realpathSync } from "node:fs";
import path from "node:path";
import { CliExitError, ProviderConfigError } from "../../src/core/errors.ts";
import { createCliProvider } from "../../src/providers/cli/index.ts";
import type { Delta, ModelRequest } from "../../src/providers/types.ts";
import { FAKE_TOOL, Sandbox, basePath, drain, isGone } from "../helpers/fake-cli/harness.ts";

interface Record {
  argv: string[];
  stdin: string;
  cwd: string;
  env: { [key: string]: string };
}

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => box.cleanup());

function run(request: ModelRequest, env: { [key: string]: string } = {}) {
  // Raw replay: the fake prints the fixture file exactly, with no added line endings.
  const provider = createCliProvider({ env: { PATH: basePath(), FAKE_CLI_RAW: "1", ...env }, killGraceMs: 50 });
  return drain(provider.stream(request, { signal: new AbortController().signal }));
}

function textOf(items: Delta[]): string {
  return items.map((d) => (d.type === "text" ? d.text : "")).join("");
}

describe("cli provider: command", () => {
  test("a NUL byte in the system text is a clear config error naming the variable, not its value", async () => {
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, system: "secret\0text", prompt: "p", cwd: box.mkdir("w") },
      { FAKE_CLI_FIXTURE: box.file("out.txt", "never") },
    );
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toBe(`command "${FAKE_TOOL}": environment variable STAGECAST_SYSTEM_PROMPT contains a NUL byte, which a program cannot receive`);
  });

  test("the argv array reaches the program literally: no shell, no expansion, no splitting", async () => {
    const argv = ["$HOME", "a b", "; echo pwned", "`id`", "*", "--flag=x", "-", "'quoted'", "$(rm -rf /)"];
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL, ...argv] }, prompt: "p", cwd: box.mkdir("w") },
      { FAKE_CLI_RECORD: box.file("record.json"), FAKE_CLI_FIXTURE: box.file("out.txt", "ok") },
    );
    expect(error).toBeUndefined();
    expect(items).toEqual([
      { type: "text", text: "ok" },
      { type: "finish", reason: "stop" },
    ]);
    expect(box.readJson<Record>("record.json").argv).toEqual(argv);
  });

  test("the prompt arrives on stdin byte for byte; the system text in STAGECAST_SYSTEM_PROMPT", async () => {
    const prompt = "Line one\r\nline two — ünïcode 🎉\n\n  trailing spaces  \u0000nul";
    const { error } = await run(
      {
        model: { provider: "cli", tool: "command", command: [FAKE_TOOL] },
        system: "You are --system",
        prompt,
        cwd: box.mkdir("w"),
      },
      { FAKE_CLI_RECORD: box.file("record.json"), FAKE_CLI_FIXTURE: box.file("out.txt", "ok") },
    );
    expect(error).toBeUndefined();
    const record = box.readJson<Record>("record.json");
    expect(record.stdin).toBe(prompt);
    expect(record.argv).toEqual([]);
    expect(record.env).toEqual({ STAGECAST_SYSTEM_PROMPT: "You are --system" });
  });

  test("ANSI escapes and multi-byte characters survive byte-exact, even split one byte per write", async () => {
    const output =
      "\u001b[1m\u001b[38;5;208mbold orange\u001b[0m \u001b[48;2;10;20;30mtruecolor\u001b[0m\r\n" +
      "\u001b[2K\u001b[1Gprogress 100%\n日本語 ✓ 🎉 \u001b]8;;https://example.com\u0007link\u001b]8;;\u0007\n";
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd: box.mkdir("w") },
      { FAKE_CLI_FIXTURE: box.file("out.txt", output), FAKE_CLI_RAW: "1", FAKE_CLI_RAW_SPLIT: "1" },
    );
    expect(error).toBeUndefined();
    expect(textOf(items)).toBe(output);
    expect(items.filter((d) => d.type === "text" && (d.text === "" || d.text.includes("\uFFFD")))).toEqual([]);
    expect(items.at(-1)).toEqual({ type: "finish", reason: "stop" });
  });

  test("the program runs in the request's cwd", async () => {
    const cwd = box.mkdir("custom work dir");
    const { error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd },
      { FAKE_CLI_RECORD: box.file("record.json"), FAKE_CLI_FIXTURE: box.file("out.txt", "ok") },
    );
    expect(error).toBeUndefined();
    expect(box.readJson<Record>("record.json").cwd).toBe(realpathSync(cwd));
  });

  test("a relative program path resolves against our working directory, not the stage's cwd", async () => {
    const relative = `./${path.relative(process.cwd(), FAKE_TOOL)}`;
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [relative] }, prompt: "p", cwd: box.mkdir("w") },
      { FAKE_CLI_FIXTURE: box.file("out.txt", "relative ok") },
    );
    expect(error).toBeUndefined();
    expect(textOf(items)).toBe("relative ok");
  });

  test("a cwd that does not exist is a clear config error, and nothing runs", async () => {
    const missing = path.join(box.dir, "nope");
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd: missing },
      { FAKE_CLI_RECORD: box.file("record.json"), FAKE_CLI_FIXTURE: box.file("out.txt", "ok") },
    );
    expect(items).toEqual([]);
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toBe(`command ${JSON.stringify(FAKE_TOOL)}: working directory ${missing} does not exist`);
    expect(await Bun.file(path.join(box.dir, "record.json")).exists()).toBe(false);
  });

  test("tool command without model.command is a config error", async () => {
    const { error } = await run({ model: { provider: "cli", tool: "command" }, prompt: "p", cwd: box.mkdir("w") });
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toBe(
      "cli: tool `command` needs model.command, the program and its arguments as a list",
    );
  });

  test("coloured output before a failing exit is kept; the error has the code and stderr", async () => {
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd: box.mkdir("w") },
      {
        FAKE_CLI_FIXTURE: box.file("out.txt", "\u001b[31mfailing…\u001b[0m\n"),
        FAKE_CLI_EXIT: "2",
        FAKE_CLI_STDERR: "fatal: no\n",
      },
    );
    expect(textOf(items)).toBe("\u001b[31mfailing…\u001b[0m\n");
    expect(error).toBeInstanceOf(CliExitError);
    expect((error as CliExitError).exitCode).toBe(2);
    expect((error as CliExitError).stderrTail).toBe("fatal: no");
  });

  test("megabytes of output arrive complete and in order", async () => {
    const line = (i: number) => `${i.toString().padStart(6, "0")} \u001b[3${i % 8}m—ünïcode 🎉\u001b[0m ${"x".repeat(i % 50)}\n`;
    const output = Array.from({ length: 30_000 }, (_, i) => line(i)).join("");
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd: box.mkdir("w") },
      { FAKE_CLI_FIXTURE: box.file("big.txt", output), FAKE_CLI_RAW_SPLIT: "65536" },
    );
    expect(error).toBeUndefined();
    expect(textOf(items).length).toBe(output.length);
    expect(textOf(items) === output).toBe(true);
  });

  test("a consumer that stops early leaves no process behind, even with the pipe full", async () => {
    // Many short lines fill our queue past its high-water mark, so the pipe is paused when we stop.
    const line = '{"type":"message","role":"assistant","content":"y","delta":true}\n';
    const provider = createCliProvider({
      env: {
        PATH: basePath(),
        STAGECAST_GEMINI_BIN: FAKE_TOOL,
        FAKE_CLI_RAW: "1",
        FAKE_CLI_RAW_SPLIT: String(line.length * 20_000),
        FAKE_CLI_FIXTURE: box.file("many.jsonl", line.repeat(100_000)),
        FAKE_CLI_PIDFILE: box.file("pid"),
      },
      killGraceMs: 50,
    });
    const request: ModelRequest = { model: { provider: "cli", tool: "gemini" }, prompt: "p", cwd: box.mkdir("w") };
    const seen: Delta[] = [];
    for await (const delta of provider.stream(request, { signal: new AbortController().signal })) {
      seen.push(delta);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([
      { type: "text", text: "y" },
      { type: "text", text: "y" },
      { type: "text", text: "y" },
    ]);
    expect(isGone(box.readPid("pid"))).toBe(true);
  });

  test("a process left running after a clean exit is killed, even if it ignores SIGTERM", async () => {
    const { items, error } = await run(
      { model: { provider: "cli", tool: "command", command: [FAKE_TOOL] }, prompt: "p", cwd: box.mkdir("w") },
      {
        FAKE_CLI_FIXTURE: box.file("out.txt", "done"),
        FAKE_CLI_GRANDCHILD: box.file("grandchild-pid"),
        FAKE_CLI_IGNORE_TERM: "1",
      },
    );
    expect(error).toBeUndefined();
    expect(textOf(items)).toBe("done");
    expect(isGone(box.readPid("grandchild-pid"))).toBe(true);
  });
});
