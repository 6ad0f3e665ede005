// validatePipeline: the schema (translated into readable messages) plus the checks a schema cannot
// express: duplicate ids, template and condition references, provider requirements, extract names.
// The reference checks read the raw input defensively, so one run reports every problem at once,
// schema and references alike.
import { CLI_TOOLS, PipelineConfigSchema, PROVIDERS, type ProviderName, type ValidationIssue, type ValidationResult } from "../protocol/pipeline.ts";
import { compileMatches, LEAF_OPERATORS } from "./conditions.ts";
import { DEFAULT_MODELS } from "../providers/api/config.ts";
import { API_PROVIDERS, mergeModel } from "./resolve.ts";
import { templateRefs, VARIABLE_HELP, classifyExpr, type TemplateRef } from "./templates.ts";
import { closest, translateZodIssues } from "./validate-schema.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

interface StageInfo {
  id: string | undefined;
  index: number;
  format: string;
  extractNames: string[];
}

interface Checker {
  stages: StageInfo[];
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

/** A model name to suggest in messages: each provider's default, and a typical local one. */
const EXAMPLE_MODEL: Record<string, string> = { ...DEFAULT_MODELS, "openai-compatible": "llama3" };

/** Where stage `index` may look: earlier stages, and for earlyExit also itself. Returns the problem, if any. */
function checkStageRef(
  c: Checker,
  stageId: string,
  fromIndex: number,
  allowSelf: boolean,
  shown: string,
): string | undefined {
  const target = c.stages.find((s) => s.id === stageId);
  if (!target) {
    const earlier = c.stages.filter((s) => s.index < fromIndex && s.id !== undefined).map((s) => s.id!);
    const hint = closest(stageId, c.stages.map((s) => s.id ?? ""));
    return (
      `${shown} (no stage "${stageId}"; ${earlier.length ? `earlier stages: ${earlier.join(", ")}` : "there are no earlier stages"})` +
      (hint ? `; did you mean "${hint}"?` : "")
    );
  }
  if (target.index === fromIndex && !allowSelf) return `${shown} refers to this stage itself; a stage can only use earlier stages`;
  if (target.index > fromIndex) {
    return `${shown} refers to a later stage, "${stageId}" (stages[${target.index}]); a stage can only use earlier stages`;
  }
  return undefined;
}

/** `data` only exists for json and markdown stages; markdown data has sections and codeBlocks (plus extracts). */
function checkDataRef(c: Checker, stageId: string, dataPath: readonly string[], shown: string): string | undefined {
  const target = c.stages.find((s) => s.id === stageId);
  if (!target) return undefined;
  if (target.format === "text") {
    return `${shown}: stage "${stageId}" has output format text, so it has no data; use {{stages.${stageId}.output}}, or set its output.format to json or markdown`;
  }
  const first = dataPath[0];
  if (target.format === "markdown" && first !== undefined && !["sections", "codeBlocks", ...target.extractNames].includes(first)) {
    return `${shown}: markdown data has "sections" and "codeBlocks"${target.extractNames.length ? ` and the extracted ${target.extractNames.join(", ")}` : ""}, not "${first}"`;
  }
  return undefined;
}

function checkTemplate(c: Checker, text: string, where: string, stageIndex: number | null): void {
  for (const ref of templateRefs(text)) {
    const problem = templateProblem(c, ref, stageIndex);
    if (problem) c.errors.push({ path: where, message: problem });
  }
}

function templateProblem(c: Checker, ref: TemplateRef, stageIndex: number | null): string | undefined {
  const shown = `{{${ref.expr}}}`;
  if (ref.kind === "input") return undefined;
  if (ref.kind === "unknown") {
    const field = ref.expr.split(".")[2];
    const hint =
      ref.stageId !== undefined && field !== undefined ? closest(field, ["output", "status", "data"]) : undefined;
    return `unknown variable ${shown}; ${hint ? `did you mean {{stages.${ref.stageId}.${hint}}}?` : VARIABLE_HELP}`;
  }
  if (stageIndex === null) return `${shown}: defaults apply to every stage, so they can only use {{input}}`;
  const id = ref.stageId!;
  const refProblem = checkStageRef(c, id, stageIndex, false, c.stages.some((s) => s.id === id) ? shown : `unknown variable ${shown}`);
  if (refProblem) return refProblem;
  if (ref.kind === "stage-data") return checkDataRef(c, id, ref.dataPath ?? [], shown);
  return undefined;
}

function checkCondition(c: Checker, cond: unknown, where: string, stageIndex: number, allowSelf: boolean): void {
  if (!isObj(cond)) return; // the schema reports it
  for (const key of ["all", "any"] as const) {
    const list = cond[key];
    if (Array.isArray(list)) list.forEach((sub, i) => checkCondition(c, sub, `${where}.${key}[${i}]`, stageIndex, allowSelf));
  }
  if ("not" in cond) checkCondition(c, cond.not, `${where}.not`, stageIndex, allowSelf);
  const path = str(cond.path);
  if (path === undefined) return;
  if (!LEAF_OPERATORS.some((op) => cond[op] !== undefined)) {
    c.errors.push({ path: where, message: `a condition needs a test: one of ${LEAF_OPERATORS.join(", ")}` });
  }
  const matches = str(cond.matches);
  if (matches !== undefined) {
    try {
      compileMatches(matches);
    } catch (err) {
      c.errors.push({ path: `${where}.matches`, message: `invalid regular expression ${JSON.stringify(matches)}: ${(err as Error).message.replace(/^Invalid regular expression:\s*/i, "")}` });
    }
  }
  const ref = classifyExpr(path.trim());
  const problem = (() => {
    if (ref.kind === "input") return undefined;
    if (ref.kind === "unknown") {
      return `unknown path ${JSON.stringify(path)}; expected input, stages.<id>.output, stages.<id>.status or stages.<id>.data.<path>`;
    }
    const id = ref.stageId!;
    const shown = JSON.stringify(path);
    const refProblem = checkStageRef(c, id, stageIndex, allowSelf, c.stages.some((s) => s.id === id) ? shown : `unknown path ${shown}`);
    if (refProblem) return refProblem;
    if (ref.kind === "stage-data") return checkDataRef(c, id, ref.dataPath ?? [], shown);
    return undefined;
  })();
  if (problem) c.errors.push({ path: `${where}.path`, message: problem });
}

function checkModel(c: Checker, defaults: unknown, stage: unknown, at: string): void {
  if ((defaults !== undefined && !isObj(defaults)) || (stage !== undefined && !isObj(stage))) return;
  const m = mergeModel(defaults as Obj | undefined, stage as Obj | undefined) as Obj;
  const provider = m.provider;
  if (provider === undefined) {
    c.errors.push({ path: `${at}.model`, message: `no model: set ${at}.model or defaults.model` });
    return;
  }
  if (typeof provider !== "string" || !(PROVIDERS as readonly string[]).includes(provider)) return;
  const tool = str(m.tool);
  const validTool = tool !== undefined && (CLI_TOOLS as readonly string[]).includes(tool);
  if (API_PROVIDERS.includes(provider as ProviderName) && m.model === undefined) {
    c.errors.push({
      path: `${at}.model.model`,
      message: `provider ${provider} needs a model name, e.g. ${EXAMPLE_MODEL[provider]}; set ${at}.model.model or defaults.model.model`,
    });
  }
  if (provider === "cli" && tool === undefined) {
    c.errors.push({ path: `${at}.model.tool`, message: `provider cli needs a tool: one of ${CLI_TOOLS.join(", ")}` });
  }
  if (provider === "cli" && tool === "command" && m.command === undefined) {
    c.errors.push({
      path: `${at}.model.command`,
      message: `tool command needs command: the program and its arguments, e.g. ["my-llm", "--json"]`,
    });
  }
  if (m.command !== undefined && !(provider === "cli" && tool === "command")) {
    c.errors.push({
      path: `${at}.model.command`,
      message: `command is only used with provider cli and tool command (this stage uses ${provider === "cli" && validTool ? `tool ${tool}` : `provider ${provider}`})`,
    });
  }
  if (provider === "openai-compatible" && m.baseURL === undefined) {
    c.warnings.push({
      path: `${at}.model.baseURL`,
      message: "openai-compatible without baseURL: OPENAI_BASE_URL must be set when the pipeline runs",
    });
  }
  const ignored = (field: string, usedBy: string) => {
    if (m[field] !== undefined) c.warnings.push({ path: `${at}.model.${field}`, message: `${field} is only used by ${usedBy}; ignored for provider ${provider}` });
  };
  if (provider !== "cli") ["tool", "allowedTools", "cwd"].forEach((f) => ignored(f, "provider cli"));
  if (provider !== "local") ignored("path", "provider local");
  if (provider === "local" || provider === "cli") ignored("baseURL", "API providers");
}

function checkStages(raw: Obj, c: Checker): void {
  const stages = Array.isArray(raw.stages) ? raw.stages : [];
  const defaults = isObj(raw.defaults) ? raw.defaults : undefined;
  const seen = new Map<string, number>();
  stages.forEach((s, i) => {
    const stage = isObj(s) ? s : {};
    const id = str(stage.id);
    const output = isObj(stage.output) ? stage.output : {};
    const extract = Array.isArray(output.extract) ? output.extract : [];
    c.stages.push({
      id: id !== undefined && !seen.has(id) ? id : undefined,
      index: i,
      format: str(output.format) ?? "text",
      extractNames: extract.flatMap((e) => (isObj(e) && typeof e.name === "string" ? [e.name] : [])),
    });
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) c.errors.push({ path: `stages[${i}].id`, message: `duplicate stage id "${id}" (also stages[${first}])` });
      else seen.set(id, i);
    }
  });
  if (defaults && typeof defaults.system === "string") checkTemplate(c, defaults.system, "defaults.system", null);
  stages.forEach((s, i) => {
    if (!isObj(s)) return;
    const at = `stages[${i}]`;
    if (typeof s.prompt === "string") checkTemplate(c, s.prompt, `${at}.prompt`, i);
    if (typeof s.system === "string") checkTemplate(c, s.system, `${at}.system`, i);
    checkCondition(c, s.skipIf, `${at}.skipIf`, i, false);
    checkCondition(c, s.runIf, `${at}.runIf`, i, false);
    checkCondition(c, s.earlyExit, `${at}.earlyExit`, i, true);
    checkModel(c, defaults?.model, s.model, at);
    checkExtract(c, s.output, at);
  });
}

function checkExtract(c: Checker, output: unknown, at: string): void {
  if (!isObj(output) || !Array.isArray(output.extract)) return;
  const format = str(output.format) ?? "text";
  if (format === "text" && output.extract.length > 0) {
    c.errors.push({ path: `${at}.output.extract`, message: "extract needs output.format json (or markdown); text has no data to extract from" });
  }
  const names = new Map<string, number>();
  output.extract.forEach((e, j) => {
    const name = isObj(e) ? str(e.name) : undefined;
    if (name === undefined) return;
    const first = names.get(name);
    if (first !== undefined) {
      c.errors.push({ path: `${at}.output.extract[${j}].name`, message: `duplicate extract name "${name}" (also extract[${first}])` });
    } else names.set(name, j);
  });
}

/** Groups issues by stage (top-level ones first), keeping their order within a group (stable sort). */
function sortByStage(issues: ValidationIssue[]): ValidationIssue[] {
  const rank = (i: ValidationIssue) => Number(/^stages\[(\d+)\]/.exec(i.path)?.[1] ?? -1);
  return issues.map((issue, n) => ({ issue, n })).sort((a, b) => rank(a.issue) - rank(b.issue) || a.n - b.n).map((x) => x.issue);
}

export function validatePipeline(raw: unknown): ValidationResult {
  const parsed = PipelineConfigSchema.safeParse(raw);
  const c: Checker = { stages: [], errors: [], warnings: [] };
  const schemaIssues = parsed.success ? [] : translateZodIssues(parsed.error.issues, raw);
  if (isObj(raw)) checkStages(raw, c);
  const issues = sortByStage([...schemaIssues, ...c.errors]);
  if (parsed.success && issues.length === 0) return { ok: true, config: parsed.data, warnings: c.warnings };
  return { ok: false, issues };
}

/** One line per issue, as the CLI prints them: `stages[2].prompt: unknown variable {{stages.nope.output}}`. */
export function formatIssue(issue: ValidationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}
