// Prompt templates: `{{input}}`, `{{stages.<id>.output}}`, `{{stages.<id>.data.<path>}}`, `{{stages.<id>.status}}`.
// `\{{` writes a literal `{{` (for prompts that show Handlebars or Jinja to the model).
import { TemplateError } from "./errors.ts";
import { describeMiss, splitPath, walk, type RunContext } from "./run-context.ts";

export interface TemplateRef {
  /** the reference as written, braces included: `{{ stages.draft.output }}` */
  raw: string;
  /** the trimmed inside: `stages.draft.output` */
  expr: string;
  /** offset of `raw` in the template */
  index: number;
  kind: "input" | "stage-output" | "stage-data" | "stage-status" | "unknown";
  stageId?: string;
  /** for stage-data: the path below `data` (empty for the whole data) */
  dataPath?: string[];
}

const REF = /(\\?)\{\{([^{}]*)\}\}/g;

export const VARIABLE_HELP = "use {{input}}, {{stages.<id>.output}}, {{stages.<id>.data.<path>}} or {{stages.<id>.status}}";

export function classifyExpr(expr: string): Pick<TemplateRef, "kind" | "stageId" | "dataPath"> {
  if (expr === "input") return { kind: "input" };
  const segs = splitPath(expr);
  if (segs[0] !== "stages" || segs.length < 3 || !segs[1]) return { kind: "unknown" };
  const stageId = segs[1];
  const field = segs[2];
  if (field === "output" && segs.length === 3) return { kind: "stage-output", stageId };
  if (field === "status" && segs.length === 3) return { kind: "stage-status", stageId };
  if (field === "data" && segs.slice(3).every((s) => s !== "")) {
    return { kind: "stage-data", stageId, dataPath: segs.slice(3) };
  }
  return { kind: "unknown", stageId };
}

export function templateRefs(template: string): TemplateRef[] {
  const refs: TemplateRef[] = [];
  for (const m of template.matchAll(REF)) {
    if (m[1]) continue; // escaped
    const raw = m[0];
    const expr = (m[2] ?? "").trim();
    refs.push({ raw, expr, index: m.index, ...classifyExpr(expr) });
  }
  return refs;
}

/** A value as it appears in a prompt: strings as-is, null as nothing, objects and arrays as pretty JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}

function resolveRef(ref: TemplateRef, ctx: RunContext, where: string): string {
  const fail = (why: string) => new TemplateError(`${where}: {{${ref.expr}}} ${why}`);
  if (ref.kind === "input") return ctx.input;
  if (ref.kind === "unknown" || ref.stageId === undefined) {
    throw new TemplateError(`${where}: unknown variable {{${ref.expr}}}; ${VARIABLE_HELP}`);
  }
  const id = ref.stageId;
  const state = Object.hasOwn(ctx.stages, id) ? ctx.stages[id] : undefined;
  if (!state) {
    const ids = Object.keys(ctx.stages);
    throw fail(`refers to no stage "${id}" (stages: ${ids.length ? ids.join(", ") : "none"})`);
  }
  if (ref.kind === "stage-status") return state.status;
  if (state.status === "pending" || state.status === "running") {
    throw fail(`refers to stage "${id}", which has not finished (status ${state.status})`);
  }
  if (ref.kind === "stage-output") return state.status === "skipped" ? "" : state.output;

  // stage-data: a stage that produced no answer (skipped, or failed under continueOnError) renders empty.
  if (state.status !== "completed") return "";
  if (state.data === undefined) {
    throw fail(`has nothing to read: stage "${id}" has no parsed data (its output format is text); use {{stages.${id}.output}}`);
  }
  const path = ref.dataPath ?? [];
  const hit = walk(state.data, path);
  if (hit.found) return formatValue(hit.value);
  const miss = describeMiss(state.data, path);
  const at = ["stages", id, "data", ...path.slice(0, miss.depth)].join(".");
  throw fail(`resolved to nothing: ${at} has ${miss.holds}`);
}

export function renderTemplate(template: string, ctx: RunContext, where: string): string {
  return template.replace(REF, (raw: string, escape: string, inner: string, index: number) => {
    if (escape) return raw.slice(1);
    const expr = inner.trim();
    return resolveRef({ raw, expr, index, ...classifyExpr(expr) }, ctx, where);
  });
}
