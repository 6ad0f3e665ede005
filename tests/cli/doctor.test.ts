// `stagecast doctor`: fake tools on a temp PATH report their versions; only the allow-list is probed.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatTable, runDoctor } from "../../src/cli/doctor.ts";
import { probeTools } from "../../src/providers/cli/doctor.ts";
import { Sandbox, isGone } from "../helpers/fake-cli/harness.ts";

let box: Sandbox;
let bin: string;
beforeEach(() => {
  box = new Sandbox();
  bin = box.mkdir("bin");
});
afterEach(() => box.cleanup());

/** A fake tool that notes each run (its arguments) in `ran-<name>`, then does `body`. */
function tool(name: string, body: string, dir = bin): string {
  const file = path.join(dir, name);
  const marker = path.join(box.dir, `ran-${name}`);
  writeFileSync(file, `#!/bin/sh\necho "$@" >> '${marker}'\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function tools(specs: [string, string][]): void {
  for (const [name, body] of specs) tool(name, body);
}

function ran(name: string): string | null {
  const marker = path.join(box.dir, `ran-${name}`);
  return existsSync(marker) ? readFileSync(marker, "utf8") : null;
}

describe("stagecast doctor", () => {
  test("reports installed tools with their versions and never runs anything off the allow-list", async () => {
    tools([
      ["claude", 'echo "2.1.331 (Claude Code)"'],
      ["opencode", "echo 0.15.8"],
      ["codex", "echo 9.9.9"],
      ["aider", "echo 1.0.0"],
    ]);
    const probes = await probeTools({ env: { PATH: bin } });
    expect(probes).toEqual([
      { tool: "claude", installed: true, path: path.join(bin, "claude"), version: "2.1.331" },
      { tool: "opencode", installed: true, path: path.join(bin, "opencode"), version: "0.15.8" },
      {
        tool: "gemini",
        installed: false,
        error: "not found; install with npm install -g @google/gemini-cli or set STAGECAST_GEMINI_BIN",
      },
    ]);
    expect(ran("claude")).toBe("--version\n");
    expect(ran("opencode")).toBe("--version\n");
    expect(ran("codex")).toBeNull();
    expect(ran("aider")).toBeNull();
  });

  test("STAGECAST_<TOOL>_BIN points at a binary off PATH", async () => {
    const elsewhere = box.mkdir("elsewhere");
    const moved = tool("gemini-nightly", "echo 0.9.0-nightly.20251010", elsewhere);
    const probes = await probeTools({ env: { PATH: bin, STAGECAST_GEMINI_BIN: moved } });
    expect(probes[2]).toEqual({ tool: "gemini", installed: true, path: moved, version: "0.9.0-nightly.20251010" });
  });

  test("an installed tool that fails or hangs is reported as broken, and the hung one is killed", async () => {
    tools([
      ["claude", 'echo "config is corrupt" >&2; exit 4'],
      ["opencode", `echo $$ > '${path.join(box.dir, "opencode.pid")}'; exec /bin/sleep 600`],
    ]);
    const probes = await probeTools({ env: { PATH: bin }, timeoutMs: 300 });
    expect(probes.slice(0, 2)).toEqual([
      { tool: "claude", installed: true, path: path.join(bin, "claude"), error: "--version exited with code 4: config is corrupt" },
      { tool: "opencode", installed: true, path: path.join(bin, "opencode"), error: "--version gave no answer within 300 ms" },
    ]);
    expect(isGone(box.readPid("opencode.pid"))).toBe(true);
  });

  test("--json prints one JSON document with every probe; exit 0 when a tool works", async () => {
    tools([["claude", 'echo "2.1.331 (Claude Code)"']]);
    let printed = "";
    const code = await runDoctor({ json: true, out: { write: (s: string) => (printed += s) }, env: { PATH: bin } });
    expect(code).toBe(0);
    expect(printed.endsWith("\n")).toBe(true);
    expect(JSON.parse(printed)).toEqual({ tools: await probeTools({ env: { PATH: bin } }) });
  });

  test("the table is readable and the exit code is 1 when no agent CLI works", async () => {
    tools([["claude", "exit 2"]]);
    let printed = "";
    const code = await runDoctor({ json: false, out: { write: (s: string) => (printed += s) }, env: { PATH: bin } });
    expect(code).toBe(1);
    const claude = path.join(bin, "claude");
    expect(printed).toBe(
      [
        "tool      status   version  path / note",
        `claude    broken   -        ${claude}  --version exited with code 2`,
        "opencode  missing  -        not found; install with npm install -g opencode-ai or set STAGECAST_OPENCODE_BIN",
        "gemini    missing  -        not found; install with npm install -g @google/gemini-cli or set STAGECAST_GEMINI_BIN",
        "",
      ].join("\n"),
    );
    expect(formatTable([{ tool: "claude", installed: true, path: "/x/claude", version: "2.1.331" }])).toBe(
      "tool    status  version  path / note\nclaude  ok      2.1.331  /x/claude\n",
    );
  });
});
