// Test-side helpers for the fake CLI (fake-tool.ts): a temp sandbox per test, a FIFO gate that
// releases the fake's output one line at a time, and a liveness check for the kill tests.
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const FAKE_TOOL = path.resolve(import.meta.dir, "fake-tool.ts");
export const FIXTURES = path.resolve(import.meta.dir, "../../fixtures/cli");

/** PATH with only bun (for the fake's `#!/usr/bin/env bun`) and the system basics. */
export function basePath(...first: string[]): string {
  return [...first, path.dirname(process.execPath), "/usr/bin", "/bin"].join(":");
}

/** Holds the write end of a FIFO the fake reads one byte from before each line it prints. */
export class FifoGate {
  readonly path: string;
  #fd: number | undefined;
  constructor(file: string) {
    const made = Bun.spawnSync(["mkfifo", file]);
    if (made.exitCode !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`);
    this.path = file;
    // O_RDWR never blocks on a FIFO, so the test can open it before the fake exists.
    this.#fd = openSync(file, "r+");
  }
  release(lines = 1): void {
    if (lines > 0 && this.#fd !== undefined) writeSync(this.#fd, "x".repeat(lines));
  }
  /** EOF for the fake: it prints everything that is left. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

export class Sandbox {
  readonly dir: string;
  readonly #gates: FifoGate[] = [];
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), "stagecast-cli-test-"));
  }
  file(name: string, content?: string): string {
    const full = path.join(this.dir, name);
    if (content !== undefined) writeFileSync(full, content);
    return full;
  }
  mkdir(name: string): string {
    const full = path.join(this.dir, name);
    mkdirSync(full, { recursive: true });
    return full;
  }
  gate(): FifoGate {
    const gate = new FifoGate(this.file(`gate-${this.#gates.length}`));
    this.#gates.push(gate);
    return gate;
  }
  readJson<T>(name: string): T {
    return JSON.parse(readFileSync(path.join(this.dir, name), "utf8")) as T;
  }
  readPid(name: string): number {
    return Number(readFileSync(path.join(this.dir, name), "utf8"));
  }
  cleanup(): void {
    for (const gate of this.#gates) gate.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PF_EXITING = 0x4;

/**
 * True when the process no longer runs: gone, a zombie nobody has reaped yet, or already inside
 * exit(). The last matters because a dying process closes its pipes (which is how we learn it
 * died) before it becomes a zombie; the kernel sets PF_EXITING before either.
 */
export function isGone(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true;
  }
  // Fields after the parenthesised command name: state ppid pgrp session tty_nr tpgid flags …
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0] ?? "";
  const flags = Number(fields[6] ?? 0);
  return state === "Z" || state === "X" || (flags & PF_EXITING) !== 0;
}

export { drain } from "../drain.ts";
