// Pipeline conditions (skipIf, runIf, earlyExit) as one readable line each.
import type { Condition, LeafCondition } from "../../../src/protocol/pipeline.ts";

const v = (x: unknown) => JSON.stringify(x);

function leaf(c: LeafCondition): string {
  const parts: string[] = [];
  if (c.equals !== undefined) parts.push(`equals ${v(c.equals)}`);
  if (c.notEquals !== undefined) parts.push(`does not equal ${v(c.notEquals)}`);
  if (c.in !== undefined) parts.push(`is one of ${c.in.map(v).join(", ")}`);
  if (c.contains !== undefined) parts.push(`contains ${v(c.contains)}`);
  if (c.matches !== undefined) parts.push(`matches /${c.matches}/`);
  if (c.exists !== undefined) parts.push(c.exists ? "exists" : "does not exist");
  if (c.gt !== undefined) parts.push(`> ${c.gt}`);
  if (c.gte !== undefined) parts.push(`≥ ${c.gte}`);
  if (c.lt !== undefined) parts.push(`< ${c.lt}`);
  if (c.lte !== undefined) parts.push(`≤ ${c.lte}`);
  return `${c.path} ${parts.length ? parts.join(" and ") : "is truthy"}`;
}

export function describeCondition(c: Condition): string {
  if ("all" in c) return c.all.map((x) => wrap(x)).join(" AND ");
  if ("any" in c) return c.any.map((x) => wrap(x)).join(" OR ");
  if ("not" in c) return `NOT ${wrap(c.not)}`;
  return leaf(c);
}

function wrap(c: Condition): string {
  const text = describeCondition(c);
  return "path" in c ? text : `(${text})`;
}
