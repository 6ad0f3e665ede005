// skipIf / runIf / earlyExit. A leaf tests the value at `path`; with several operators, all must hold.
// A missing value (or null) equals nothing, so `notEquals` holds for it and `exists: false` is true.
// gt/gte/lt/lte accept numbers and numeric strings ("8" from a model's JSON), nothing else.
import type { Condition, LeafCondition } from "../protocol/pipeline.ts";
import { resolvePath, type RunContext } from "./run-context.ts";

export const LEAF_OPERATORS = ["equals", "notEquals", "in", "contains", "matches", "exists", "gt", "gte", "lt", "lte"] as const;

export function isLeaf(cond: Condition): cond is LeafCondition {
  return "path" in cond;
}

/** `matches` is a JavaScript regex; a leading `(?i)` (as in most other regex dialects) means ignore case. */
export function compileMatches(pattern: string): RegExp {
  return pattern.startsWith("(?i)") ? new RegExp(pattern.slice(4), "i") : new RegExp(pattern);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value.trim());
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

function evaluateLeaf(leaf: LeafCondition, ctx: RunContext): boolean {
  const hit = resolvePath(ctx, leaf.path);
  const present = hit.found && hit.value !== null;
  const value = present ? hit.value : undefined;
  const checks: boolean[] = [];
  if (leaf.exists !== undefined) checks.push(present === leaf.exists);
  if (leaf.equals !== undefined) checks.push(present && value === leaf.equals);
  if (leaf.notEquals !== undefined) checks.push(!present || value !== leaf.notEquals);
  if (leaf.in !== undefined) checks.push(present && leaf.in.some((v) => v === value));
  if (leaf.contains !== undefined) {
    const needle = leaf.contains;
    checks.push(
      typeof value === "string" ? value.includes(needle) : Array.isArray(value) ? value.some((v) => v === needle) : false,
    );
  }
  if (leaf.matches !== undefined) {
    const text = typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
    checks.push(text !== undefined && compileMatches(leaf.matches).test(text));
  }
  const n = toNumber(value);
  if (leaf.gt !== undefined) checks.push(n !== undefined && n > leaf.gt);
  if (leaf.gte !== undefined) checks.push(n !== undefined && n >= leaf.gte);
  if (leaf.lt !== undefined) checks.push(n !== undefined && n < leaf.lt);
  if (leaf.lte !== undefined) checks.push(n !== undefined && n <= leaf.lte);
  // A bare `{path}` (validation rejects it) reads as "exists" rather than a silent `true`.
  if (checks.length === 0) return present;
  return checks.every(Boolean);
}

export function evaluateCondition(cond: Condition, ctx: RunContext): boolean {
  if (isLeaf(cond)) return evaluateLeaf(cond, ctx);
  if ("all" in cond) return cond.all.every((c) => evaluateCondition(c, ctx));
  if ("any" in cond) return cond.any.some((c) => evaluateCondition(c, ctx));
  return !evaluateCondition(cond.not, ctx);
}

/** Every `path` the condition reads, in order of appearance. */
export function conditionPaths(cond: Condition): string[] {
  if (isLeaf(cond)) return [cond.path];
  if ("all" in cond) return cond.all.flatMap(conditionPaths);
  if ("any" in cond) return cond.any.flatMap(conditionPaths);
  return conditionPaths(cond.not);
}

const show = (v: unknown) => JSON.stringify(v);

function describeLeaf(leaf: LeafCondition): string {
  const parts: string[] = [];
  if (leaf.exists !== undefined) parts.push(leaf.exists ? "exists" : "does not exist");
  if (leaf.equals !== undefined) parts.push(`equals ${show(leaf.equals)}`);
  if (leaf.notEquals !== undefined) parts.push(`does not equal ${show(leaf.notEquals)}`);
  if (leaf.in !== undefined) parts.push(`is one of ${leaf.in.map(show).join(", ")}`);
  if (leaf.contains !== undefined) parts.push(`contains ${show(leaf.contains)}`);
  if (leaf.matches !== undefined) parts.push(`matches /${leaf.matches}/`);
  if (leaf.gt !== undefined) parts.push(`> ${leaf.gt}`);
  if (leaf.gte !== undefined) parts.push(`>= ${leaf.gte}`);
  if (leaf.lt !== undefined) parts.push(`< ${leaf.lt}`);
  if (leaf.lte !== undefined) parts.push(`<= ${leaf.lte}`);
  if (parts.length === 0) parts.push("exists");
  return `${leaf.path} ${parts.join(" and ")}`;
}

function wrap(cond: Condition): string {
  const text = describeCondition(cond);
  if ("not" in cond) return text;
  return isLeaf(cond) && !text.includes(" and ") ? text : `(${text})`;
}

export function describeCondition(cond: Condition): string {
  if (isLeaf(cond)) return describeLeaf(cond);
  if ("all" in cond) return cond.all.length === 1 ? describeCondition(cond.all[0]!) : cond.all.map(wrap).join(" and ");
  if ("any" in cond) return cond.any.length === 1 ? describeCondition(cond.any[0]!) : cond.any.map(wrap).join(" or ");
  return `not ${wrap(cond.not)}`;
}
