#!/usr/bin/env bun
// Re-records tests/fixtures/cli/claude-*.jsonl: runs the real Claude Code CLI (the pinned dev
// dependency) with the exact argv the adapter builds, against the fake Anthropic server, and saves
// its stream-json stdout. Run from the repository root: `bun tests/helpers/fake-cli/record-claude.ts`.
// Nothing reaches the network: the base URL is the fake's, telemetry and updates are off.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { claudeAdapter } from "../../../src/providers/cli/claude.ts";
import { type FakeBehaviour, startFakeAnthropic } from "../fake-anthropic.ts";
import { CLAUDE_BIN, claudeEnv } from "./claude-env.ts";

const ROOT = path.resolve(import.meta.dir, "../../..");
const OUT = path.join(ROOT, "tests/fixtures/cli");

const SCENARIOS: { file: string; behaviour: FakeBehaviour; exit: number }[] = [
  {
    file: "claude-unicode.jsonl",
    behaviour: { kind: "stream", chunks: ["Grüße", " — ", "日本語\n", "🎉 done"], usage: { inputTokens: 12, outputTokens: 7 } },
    exit: 0,
  },
  {
    file: "claude-error-400.jsonl",
    behaviour: { kind: "http-error", status: 400, message: "prompt is too long: 999999 tokens > 200000 maximum" },
    exit: 1,
  },
];

const fake = await startFakeAnthropic();
try {
  for (const scenario of SCENARIOS) {
    fake.enqueue(scenario.behaviour);
    const home = mkdtempSync(path.join(tmpdir(), "stagecast-record-"));
    const invocation = claudeAdapter.invocation(
      { model: { provider: "cli", tool: "claude", model: "claude-haiku-4-5" }, system: "Be brief.", prompt: "Say hi" },
      {},
    );
    const child = Bun.spawn([CLAUDE_BIN, ...invocation.args], {
      cwd: home,
      stdin: new TextEncoder().encode(invocation.stdin),
      stdout: "pipe",
      stderr: "inherit",
      env: claudeEnv(home, fake.url),
    });
    const stdout = await new Response(child.stdout).text();
    const code = await child.exited;
    rmSync(home, { recursive: true, force: true });
    if (code !== scenario.exit) throw new Error(`${scenario.file}: claude exited ${code}, expected ${scenario.exit}`);
    writeFileSync(path.join(OUT, scenario.file), stdout);
    console.log(`recorded ${scenario.file}: ${stdout.trim().split("\n").length} lines, exit ${code}`);
  }
} finally {
  await fake.stop();
}
