// What templates and conditions can see while a pipeline runs: the input and every stage's state.
// Paths are dotted (`stages.draft.data.items.0.title`); `items[0]` is accepted as `items.0`.

export interface StageState {
  status: "pending" | "running" | "completed" | "skipped" | "failed" | "cancelled";
  output: string;
  data: unknown;
}

export interface RunContext {
  input: string;
  stages: Record<string, StageState>;
}

/** Splits `a.b[0].c` into `["a", "b", "0", "c"]`; empty segments are kept so they fail to resolve. */
export function splitPath(path: string): string[] {
  return path
    .trim()
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .map((s) => s.trim());
}

/** Walks `segments` from `root`; own properties only, so `constructor` or `__proto__` never resolve. */
export function walk(root: unknown, segments: readonly string[]): { found: boolean; value: unknown } {
  let value: unknown = root;
  for (const seg of segments) {
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(seg)) return { found: false, value: undefined };
      const i = Number(seg);
      if (i >= value.length) return { found: false, value: undefined };
      value = value[i];
    } else if (value !== null && typeof value === "object") {
      if (!Object.hasOwn(value, seg)) return { found: false, value: undefined };
      value = (value as Record<string, unknown>)[seg];
    } else {
      return { found: false, value: undefined };
    }
  }
  // A key that holds `undefined` (a text stage's data) counts as absent: there is nothing to show.
  return value === undefined ? { found: false, value: undefined } : { found: true, value };
}

export function resolvePath(ctx: RunContext, path: string): { found: boolean; value: unknown } {
  return walk(ctx, splitPath(path));
}

/** Top-level keys (or the index range) of a value, for "what exists instead" hints in errors. */
export function describeKeys(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "an empty array" : `an array of ${value.length} (indexes 0-${value.length - 1})`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    return keys.length === 0 ? "an empty object" : `keys: ${keys.join(", ")}`;
  }
  if (value === undefined) return "nothing";
  return `a ${value === null ? "null" : typeof value} value`;
}

/**
 * Where a path stops resolving, for error messages: how many of its segments do resolve, and what
 * the last one that does holds (so the fix is obvious).
 */
export function describeMiss(root: unknown, segments: readonly string[]): { depth: number; holds: string } {
  let depth = 0;
  while (depth < segments.length && walk(root, segments.slice(0, depth + 1)).found) depth++;
  return { depth, holds: describeKeys(walk(root, segments.slice(0, depth)).value) };
}
