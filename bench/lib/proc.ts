// Child processes of the benchmarks (the stagecast server, the fake model) and what /proc says about
// them: resident memory (VmRSS, peak VmHWM) and CPU time (utime + stime).
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { firstLine, startRun } from "../../tests/helpers/server-client.ts";

const BENCH_DIR = resolve(import.meta.dir, "..");
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on every mainstream kernel

export interface Child {
  pid: number;
  url: string;
  stop(): Promise<void>;
}


async function spawnEntry(entry: string, arg: unknown): Promise<Child> {
  const proc = Bun.spawn(["bun", join(BENCH_DIR, entry), JSON.stringify(arg)], { stdout: "pipe", stderr: "inherit" });
  const { url } = JSON.parse(await firstLine(proc.stdout)) as { url: string };
  let stopped: Promise<void> | undefined;
  return {
    pid: proc.pid,
    url,
    stop() {
      stopped ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
        await proc.exited;
      })();
      return stopped;
    },
  };
}

export interface ServerSpec {
  maxConcurrent?: number;
  maxBufferedBytes?: number;
  /** model base URL the pipelines point at */
  modelUrl: string;
  webDir?: string;
}

export interface BenchServer extends Child {
  dir: string;
  wsUrl: string;
  run(pipelineId: string, input: string): Promise<string>;
}

/** A temp dir with the bench pipelines, and the server on it in its own process. */
export async function startBenchServer(spec: ServerSpec): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), "stagecast-bench-"));
  const cwd = join(dir, "cwd");
  await mkdir(join(cwd, "pipelines"), { recursive: true });
  await writeFile(join(cwd, "pipelines", "one.yaml"), pipelineYaml("one", spec.modelUrl, ["write"]));
  await writeFile(join(cwd, "pipelines", "two.yaml"), pipelineYaml("two", spec.modelUrl, ["draft", "polish"]));
  const child = await spawnEntry("server-entry.ts", {
    dataDir: join(dir, "data"),
    cwd,
    ...(spec.maxConcurrent !== undefined ? { maxConcurrent: spec.maxConcurrent } : {}),
    ...(spec.maxBufferedBytes !== undefined ? { maxBufferedBytes: spec.maxBufferedBytes } : {}),
    ...(spec.webDir !== undefined ? { webDir: spec.webDir } : {}),
  });
  return {
    ...child,
    dir,
    wsUrl: `${child.url.replace("http", "ws")}/ws`,
    run: (pipelineId, input) => startRun((path, init) => fetch(`${child.url}${path}`, init), pipelineId, input),
    async stop() {
      await child.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The fake OpenAI-compatible model in its own process; every call streams `chunks`, `delayMs` apart. */
export async function startFakeModelProcess(chunks: string[], delayMs = 0): Promise<Child> {
  // Through a file: a 1 MB answer is far past the kernel's limit on one argument.
  const dir = await mkdtemp(join(tmpdir(), "stagecast-bench-fake-"));
  const specFile = join(dir, "spec.json");
  await writeFile(specFile, JSON.stringify({ chunks, delayMs }));
  const child = await spawnEntry("fake-model-entry.ts", { specFile });
  await rm(dir, { recursive: true, force: true });
  return child;
}

export function pipelineYaml(id: string, modelUrl: string, stageIds: string[]): string {
  return [
    `id: ${id}`,
    `name: Bench ${id}`,
    `defaults:`,
    `  model: { provider: openai-compatible, model: fake, baseURL: "${modelUrl}" }`,
    `stages:`,
    ...stageIds.map((s) => `  - id: ${s}\n    prompt: "${s}: {{input}}"`),
    "",
  ].join("\n");
}

export interface ProcStats {
  /** resident set now, KB */
  rssKb: number;
  /** peak resident set since start, KB */
  hwmKb: number;
  /** user + system CPU time since start, ms */
  cpuMs: number;
}

export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name start at field 3 (state); utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM"), cpuMs: (ticks * 1000) / CLK_TCK };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

export const median = (values: number[]) => percentile(values, 50);

/** Least-squares slope of y over x. */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export const nowMs = () => performance.timeOrigin + performance.now();

export const utf8Bytes = (text: string) => Buffer.byteLength(text, "utf8");

export function quickFlag(argv = process.argv): boolean {
  return argv.includes("--quick");
}

/** Whole-machine CPU counters (/proc/stat "cpu" line): busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  const idleAll = (idle ?? 0) + (iowait ?? 0);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + idleAll };
}

/** Share of all cores busy between two machineCpu() samples, 0..1: tells a noisy machine from a slow program. */
export function busyShare(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : Number.NaN;
}
