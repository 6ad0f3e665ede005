#!/usr/bin/env bun
// A stand-in for an agent CLI (claude, opencode, gemini) or a pipeline `command`, driven by
// environment variables so each test scripts exactly what the "tool" does:
//   FAKE_CLI_RECORD=<file>     write {argv, stdin, cwd, env: STAGECAST_* but *_BIN, OPENCODE_CONFIG_CONTENT} as JSON
//   FAKE_CLI_VERSION=<text>    `--version` prints this and exits 0
//   FAKE_CLI_PIDFILE=<file>    write our own pid
//   FAKE_CLI_GRANDCHILD=<file> start a grandchild (sharing our stdout) that writes its pid there
//   FAKE_CLI_IGNORE_TERM=1     ignore SIGTERM (ourselves and the grandchild): only SIGKILL works
//   FAKE_CLI_STDERR=<text>     written to stderr first
//   FAKE_CLI_FIXTURE=<file>    replayed to stdout line by line (each line with its "\n")
//   FAKE_CLI_RAW=1             replay the fixture's bytes as they are, in FAKE_CLI_RAW_SPLIT pieces
//   FAKE_CLI_GATE=<fifo>       read one byte from this FIFO before each line/piece (EOF: release all)
//   FAKE_CLI_HANG=1            after the replay, never exit
//   FAKE_CLI_EXIT=<n>          exit code after the replay (default 0)
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";

const env = process.env;
const args = process.argv.slice(2);

if (args[0] === "--version" && env.FAKE_CLI_VERSION !== undefined) {
  process.stdout.write(`${env.FAKE_CLI_VERSION}\n`);
  process.exit(0);
}

const stdin = readFileSync(0, "utf8");
if (env.FAKE_CLI_RECORD) {
  // Only the variables the provider sets for the child; the rest is the test's own env.
  const passed = Object.fromEntries(
    Object.entries(env).filter(
      ([key]) => (key.startsWith("STAGECAST_") && !key.endsWith("_BIN")) || key === "OPENCODE_CONFIG_CONTENT",
    ),
  );
  writeFileSync(env.FAKE_CLI_RECORD, JSON.stringify({ argv: args, stdin, cwd: process.cwd(), env: passed }));
}
if (env.FAKE_CLI_IGNORE_TERM) process.on("SIGTERM", () => {});
if (env.FAKE_CLI_PIDFILE) writeFileSync(env.FAKE_CLI_PIDFILE, String(process.pid));
if (env.FAKE_CLI_GRANDCHILD) {
  // The grandchild reports on fd 3 once its SIGTERM handler is in place, so a test never kills it
  // while it is still starting up (when SIGTERM would work even if it meant to ignore it).
  const script =
    `${env.FAKE_CLI_IGNORE_TERM ? "process.on('SIGTERM', () => {});" : ""}` +
    "require('node:fs').writeSync(3, 'ready'); setInterval(() => {}, 1 << 30);";
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "inherit", "inherit", "pipe"] });
  const ready = child.stdio[3] as NodeJS.ReadableStream;
  await new Promise((resolve) => ready.once("data", resolve));
  (ready as unknown as { destroy(): void }).destroy();
  writeFileSync(env.FAKE_CLI_GRANDCHILD, String(child.pid));
}
if (env.FAKE_CLI_STDERR) writeSync(2, env.FAKE_CLI_STDERR);

let pieces: Uint8Array[] = [];
if (env.FAKE_CLI_FIXTURE) {
  const bytes = readFileSync(env.FAKE_CLI_FIXTURE);
  if (env.FAKE_CLI_RAW) {
    const size = Math.max(1, Number(env.FAKE_CLI_RAW_SPLIT ?? bytes.length));
    for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  } else {
    const text = bytes.toString("utf8");
    const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
    pieces = text === "" ? [] : lines.map((l) => Buffer.from(`${l}\n`));
  }
}

const gate = env.FAKE_CLI_GATE ? openSync(env.FAKE_CLI_GATE, "r") : undefined;
let gateOpen = gate === undefined;
const one = new Uint8Array(1);
for (const piece of pieces) {
  if (!gateOpen && gate !== undefined && readSync(gate, one, 0, 1, null) === 0) gateOpen = true;
  writeSync(1, piece);
}
if (gate !== undefined) closeSync(gate);

if (env.FAKE_CLI_HANG) {
  setInterval(() => {}, 1 << 30);
} else {
  process.exit(Number(env.FAKE_CLI_EXIT ?? 0));
}
