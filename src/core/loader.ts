// Finds and reads pipeline files: built-ins (next to the code), `<cwd>/pipelines/`, or a path.
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, extname, isAbsolute, join, relative, resolve } from "node:path";
import { parseDocument } from "yaml";
import type { ValidationIssue } from "../protocol/pipeline.ts";
import type { PipelineConfig } from "../protocol/pipeline.ts";
import { PipelineConfigError, UnknownPipelineError, errorMessage } from "./errors.ts";
import { validatePipeline } from "./validate.ts";

/** Found from this file, never the working directory, so `bun <checkout>/src/cli/main.ts` works anywhere. */
export const BUILTIN_PIPELINES_DIR = resolve(import.meta.dir, "../../pipelines");

const EXTENSIONS = [".yaml", ".yml", ".ts"] as const;

export interface LoadedPipeline {
  config: PipelineConfig;
  /** absolute path of the file */
  source: string;
  builtin: boolean;
  warnings: ValidationIssue[];
}

export interface PipelineListing {
  id: string;
  name: string;
  description?: string;
  stageCount: number;
  /** absolute path of the file */
  source: string;
  builtin: boolean;
  valid: boolean;
  /** the problems when `valid` is false; warnings otherwise */
  issues: ValidationIssue[];
  /** a built-in hidden by a local pipeline of the same id */
  shadowed?: boolean;
}

function yamlIssues(text: string): { value: unknown; issues: ValidationIssue[] } {
  const doc = parseDocument(text, { prettyErrors: true });
  const issues = doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    const what = e.message.split(/ at line \d+, column \d+/)[0]!.trim();
    return { path: "", message: pos ? `YAML syntax error at line ${pos.line}, column ${pos.col}: ${what}` : `YAML syntax error: ${what}` };
  });
  if (issues.length) return { value: undefined, issues };
  try {
    return { value: doc.toJS(), issues };
  } catch (err) {
    // Valid syntax that cannot become a value: an alias to no anchor (`*a`), or too many aliases.
    return { value: undefined, issues: [{ path: "", message: `YAML error: ${(err as Error).message}` }] };
  }
}

/** Reads a file into the raw pipeline object; syntax and module errors become issues. */
async function readRaw(file: string): Promise<{ value: unknown; issues: ValidationIssue[] }> {
  if (extname(file) === ".ts") {
    let mod: { default?: unknown };
    try {
      mod = (await import(file)) as { default?: unknown };
    } catch (err) {
      return { value: undefined, issues: [{ path: "", message: `the module failed to load: ${errorMessage(err)}` }] };
    }
    if (mod.default === undefined) {
      return { value: undefined, issues: [{ path: "", message: "the module has no default export; write `export default { id, name, stages: [...] }`" }] };
    }
    return { value: mod.default, issues: [] };
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    return { value: undefined, issues: [{ path: "", message: `cannot read the file: ${errorMessage(err)}` }] };
  }
  if (text.trim() === "") return { value: undefined, issues: [{ path: "", message: "the file is empty; a pipeline needs id, name and stages" }] };
  return yamlIssues(text);
}

async function loadFile(file: string, builtin: boolean): Promise<LoadedPipeline> {
  const raw = await readRaw(file);
  if (raw.issues.length) throw new PipelineConfigError(file, raw.issues);
  const result = validatePipeline(raw.value);
  if (!result.ok) throw new PipelineConfigError(file, result.issues);
  return { config: result.config, source: file, builtin, warnings: result.warnings };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function pipelineFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => (EXTENSIONS as readonly string[]).includes(extname(n)) && !n.endsWith(".d.ts"))
    .sort()
    .map((n) => join(dir, n));
}

/** `<id>.yaml`, `.yml` or `.ts` in `dir`. */
async function findById(dir: string, id: string): Promise<string | undefined> {
  for (const ext of EXTENSIONS) {
    const file = join(dir, `${id}${ext}`);
    if (await isFile(file)) return file;
  }
  return undefined;
}

async function findByDeclaredId(local: string | undefined, id: string): Promise<LoadedPipeline | undefined> {
  const dirs: [string, boolean][] = [...(local ? [[local, false] as [string, boolean]] : []), [BUILTIN_PIPELINES_DIR, true]];
  for (const [dir, builtin] of dirs) {
    for (const file of await pipelineFiles(dir)) {
      const raw = await readRaw(file);
      if (raw.issues.length) continue;
      const result = validatePipeline(raw.value);
      if (result.ok && result.config.id === id) return { config: result.config, source: file, builtin, warnings: result.warnings };
    }
  }
  return undefined;
}

function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || (EXTENSIONS as readonly string[]).includes(extname(ref));
}

/** The cwd's pipelines/ folder, unless it is the built-in folder itself (running from the checkout). */
async function localDir(cwd: string): Promise<string | undefined> {
  const dir = resolve(cwd, "pipelines");
  try {
    const [a, b] = await Promise.all([realpath(dir), realpath(BUILTIN_PIPELINES_DIR)]);
    return a === b ? undefined : dir;
  } catch {
    return dir;
  }
}

/**
 * `ref` is a path (has a slash or a .yaml/.yml/.ts extension), else an id: `<cwd>/pipelines/<id>.*`
 * first (a local pipeline shadows a built-in), then the built-ins. `allowPaths: false` (for ids that
 * come from HTTP requests) refuses paths.
 */
export async function loadPipeline(ref: string, opts: { cwd: string; allowPaths?: boolean }): Promise<LoadedPipeline> {
  const pathLike = looksLikePath(ref);
  if (pathLike && opts.allowPaths === false) {
    // The server passes ids from URLs: a path there must never reach the file system.
    throw new UnknownPipelineError(ref, [], `unknown pipeline "${ref}": expected a pipeline id ([a-z0-9-]+), not a path`);
  }
  if (pathLike) {
    const file = isAbsolute(ref) ? ref : resolve(opts.cwd, ref);
    if (await isFile(file)) return loadFile(file, false);
  } else {
    const local = await localDir(opts.cwd);
    const localFile = local ? await findById(local, ref) : undefined;
    if (localFile) return loadFile(localFile, false);
    const builtinFile = await findById(BUILTIN_PIPELINES_DIR, ref);
    if (builtinFile) return loadFile(builtinFile, true);
    // A file whose `id` differs from its name: `list` shows the id, so the id must run it too.
    const byId = await findByDeclaredId(local, ref);
    if (byId) return byId;
  }
  const available = (await pipelineFiles(BUILTIN_PIPELINES_DIR)).map((f) => basename(f, extname(f)));
  const shown = relative(opts.cwd, resolve(opts.cwd, ref)) || ref;
  const message = looksLikePath(ref)
    ? `unknown pipeline "${ref}": no such file (${isAbsolute(ref) ? ref : `looked for ${shown} in ${opts.cwd}`})`
    : `unknown pipeline "${ref}": not a built-in (available: ${available.join(", ") || "none"}), not in ./pipelines/, not a file`;
  throw new UnknownPipelineError(ref, available, message);
}

async function listing(file: string, builtin: boolean): Promise<PipelineListing> {
  const stem = basename(file, extname(file));
  const raw = await readRaw(file);
  const result = raw.issues.length ? ({ ok: false, issues: raw.issues } as const) : validatePipeline(raw.value);
  if (result.ok) {
    const { config } = result;
    return {
      id: config.id,
      name: config.name,
      ...(config.description !== undefined ? { description: config.description } : {}),
      stageCount: config.stages.length,
      source: file,
      builtin,
      valid: true,
      issues: result.warnings,
    };
  }
  // Invalid files are listed with what can be salvaged, so `list` shows them instead of hiding them.
  const obj = raw.value !== null && typeof raw.value === "object" ? (raw.value as Record<string, unknown>) : {};
  const description = typeof obj.description === "string" ? obj.description : undefined;
  return {
    id: stem,
    name: typeof obj.name === "string" && obj.name !== "" ? obj.name : stem,
    ...(description !== undefined ? { description } : {}),
    stageCount: Array.isArray(obj.stages) ? obj.stages.length : 0,
    source: file,
    builtin,
    valid: false,
    issues: result.issues,
  };
}

/** Built-ins first, then the cwd's pipelines/, each sorted by file name. Never throws on a bad file. */
export async function listPipelines(opts: { cwd: string }): Promise<PipelineListing[]> {
  const local = await localDir(opts.cwd);
  const [builtins, locals] = await Promise.all([
    Promise.all((await pipelineFiles(BUILTIN_PIPELINES_DIR)).map((f) => listing(f, true))),
    local ? Promise.all((await pipelineFiles(local)).map((f) => listing(f, false))) : Promise.resolve([]),
  ]);
  const localIds = new Set(locals.map((p) => basename(p.source, extname(p.source))));
  for (const b of builtins) if (localIds.has(basename(b.source, extname(b.source)))) b.shadowed = true;
  return [...builtins, ...locals];
}
