// Translates zod's issues on a pipeline file into messages a person can act on, with the
// path printed the way users write it (`stages[2].model.provider`).
import type { z } from "zod";
import {
  ExtractSchema,
  LeafConditionSchema,
  ModelConfigSchema,
  OutputSpecSchema,
  PipelineConfigSchema,
  PipelineDefaultsSchema,
  StageConfigSchema,
  type ValidationIssue,
} from "../protocol/pipeline.ts";

type ZodIssue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, seg as string)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** JSON.stringify that never throws: a .ts pipeline module may hold a bigint or a cycle. */
function showJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? `${x}n` : x));
  } catch {
    return String(v);
  }
}

/** `got string "abc"` / `got an array` — what was actually there. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const text = showJson(v) ?? String(v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest candidate, when it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best !== undefined && bestDist <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

const CONDITION_KEYS = [...Object.keys(LeafConditionSchema.shape), "all", "any", "not"];

/** The fields allowed in the object at `path`, for "did you mean" hints. */
function knownKeys(path: Path): string[] {
  const last = path[path.length - 1];
  const before = path[path.length - 2];
  if (path.length === 0) return Object.keys(PipelineConfigSchema.shape);
  if (typeof last === "number") {
    if (before === "stages") return Object.keys(StageConfigSchema.shape);
    if (before === "extract") return Object.keys(ExtractSchema.shape);
    return CONDITION_KEYS; // all[i] / any[i]
  }
  switch (last) {
    case "model":
      return Object.keys(ModelConfigSchema.shape);
    case "defaults":
      return Object.keys(PipelineDefaultsSchema.shape);
    case "output":
      return Object.keys(OutputSpecSchema.shape);
    default:
      return CONDITION_KEYS; // skipIf, runIf, earlyExit, not
  }
}

const ENUM_NAMES: Record<string, string> = { provider: "provider", tool: "tool", format: "output format" };

function isCustomMessage(message: string): boolean {
  return !/^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(message);
}

function expectedName(expected: string): string {
  switch (expected) {
    case "int":
      return "a whole number";
    case "object":
      return "an object";
    case "array":
      return "a list";
    case "null":
      return "null";
    default:
      return `a ${expected}`;
  }
}

/** Which branch of the condition union the author meant: the one whose key the object has. */
function conditionBranch(value: unknown): number {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return -1;
  if (Object.hasOwn(value, "path")) return 0;
  if (Object.hasOwn(value, "all")) return 1;
  if (Object.hasOwn(value, "any")) return 2;
  if (Object.hasOwn(value, "not")) return 3;
  return 0;
}

function translate(issue: ZodIssue, base: Path, raw: unknown, out: ValidationIssue[]): void {
  const path = [...base, ...issue.path];
  const at = formatPath(path);
  const value = valueAt(raw, path);
  const push = (message: string, p: string = at) => out.push({ path: p, message });

  switch (issue.code) {
    case "invalid_union": {
      const branches = issue.errors;
      const simple = branches.every((b) => b.length === 1 && b[0]!.code === "invalid_type" && b[0]!.path.length === 0);
      const expected = simple ? branches.map((b) => (b[0] as { expected: string }).expected) : [];
      if (expected.length > 0 && !expected.every((e) => e === "object")) {
        // A scalar union such as `equals`: list what would have been accepted.
        push(`expected ${expected.map(expectedName).join(", ")}; got ${describeValue(value)}`);
        return;
      }
      const choice = conditionBranch(value);
      if (choice === -1 || branches[choice] === undefined) {
        push(`expected a condition ({path, equals…}, {all: […]}, {any: […]} or {not: …}); got ${describeValue(value)}`);
        return;
      }
      for (const sub of branches[choice]!) {
        if (choice !== 0 && sub.code === "unrecognized_keys" && sub.path.length === 0) {
          push(`a condition with "${["", "all", "any", "not"][choice]}" cannot also have ${sub.keys.map((k) => `"${k}"`).join(", ")}`);
          continue;
        }
        translate(sub, path, raw, out);
      }
      return;
    }
    case "invalid_type": {
      if (path.length === 0) {
        push(`expected a pipeline object (id, name, stages); got ${describeValue(value)}`, "");
        return;
      }
      if (value === undefined) push(`missing; expected ${expectedName(issue.expected)}`);
      else push(`expected ${expectedName(issue.expected)}; got ${describeValue(value)}`);
      return;
    }
    case "invalid_value": {
      const key = String(path[path.length - 1] ?? "");
      const what = ENUM_NAMES[key] ?? "value";
      const options = issue.values.map(String);
      const hint = typeof value === "string" ? closest(value, options) : undefined;
      push(
        `unknown ${what} ${showJson(value) ?? "undefined"}; expected one of ${options.join(", ")}` +
          (hint ? ` (did you mean "${hint}"?)` : ""),
      );
      return;
    }
    case "unrecognized_keys": {
      const known = knownKeys(path);
      for (const key of issue.keys) {
        const hint = closest(key, known);
        push(`unknown field "${key}"${hint ? `; did you mean "${hint}"?` : ""}`);
      }
      return;
    }
    case "invalid_format": {
      const shown = showJson(value) ?? "";
      if (issue.format === "url") push(`${shown} is not a valid URL`);
      else if (path[path.length - 1] === "apiKeyEnv") push(`${shown} must be an environment variable name such as MY_API_KEY`);
      else if (isCustomMessage(issue.message)) push(`${shown} ${issue.message}`);
      else push(`${shown} has the wrong format`);
      return;
    }
    case "too_small": {
      if (isCustomMessage(issue.message)) push(issue.message);
      else if (issue.origin === "string") push("must not be empty");
      else if (issue.origin === "array") push(`needs at least ${issue.minimum} item${Number(issue.minimum) === 1 ? "" : "s"}`);
      else push(issue.inclusive ? `must be at least ${issue.minimum}; got ${describeValue(value)}` : `must be greater than ${issue.minimum}; got ${describeValue(value)}`);
      return;
    }
    case "too_big": {
      if (issue.origin === "number" || issue.origin === "int") push(`must be at most ${issue.maximum}; got ${describeValue(value)}`);
      else push(`too long (at most ${issue.maximum})`);
      return;
    }
    default:
      push(issue.message);
  }
}

export function translateZodIssues(issues: readonly ZodIssue[], raw: unknown): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) translate(issue, [], raw, out);
  return out;
}
