// `stagecast list` and `stagecast validate`.
import { relative } from "node:path";
import { listPipelines, loadPipeline } from "../core/loader.ts";
import { PipelineConfigError } from "../core/errors.ts";
import { makeStyle } from "./render.ts";

const style = () => makeStyle(Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);

function shortPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") ? path : rel;
}

export async function listCommand(opts: { cwd: string; json: boolean }): Promise<number> {
  const pipelines = await listPipelines({ cwd: opts.cwd });
  if (opts.json) {
    process.stdout.write(JSON.stringify(pipelines, null, 2) + "\n");
    return 0;
  }
  const s = style();
  if (pipelines.length === 0) {
    process.stdout.write("no pipelines found\n");
    return 0;
  }
  const idWidth = Math.max(2, ...pipelines.map((p) => p.id.length));
  for (const p of pipelines) {
    const where = p.builtin ? "built-in" : shortPath(p.source, opts.cwd);
    const state = p.valid ? "" : s.red(` — invalid: ${p.issues.length} problem${p.issues.length === 1 ? "" : "s"} (stagecast validate ${p.id})`);
    process.stdout.write(`${s.bold(p.id.padEnd(idWidth))}  ${p.name} ${s.dim(`· ${p.stageCount} stage${p.stageCount === 1 ? "" : "s"} · ${where}`)}${state}\n`);
    if (p.description) process.stdout.write(`${" ".repeat(idWidth)}  ${s.dim(p.description.trim().split("\n")[0] ?? "")}\n`);
  }
  return 0;
}

export async function validateCommand(opts: { cwd: string; json: boolean; pipeline: string }): Promise<number> {
  try {
    const loaded = await loadPipeline(opts.pipeline, { cwd: opts.cwd });
    if (opts.json) {
      process.stdout.write(JSON.stringify({ valid: true, source: loaded.source, issues: [], warnings: loaded.warnings }, null, 2) + "\n");
      return 0;
    }
    const s = style();
    const n = loaded.config.stages.length;
    process.stdout.write(`${s.green("✓")} ${shortPath(loaded.source, opts.cwd)}: valid (${n} stage${n === 1 ? "" : "s"})\n`);
    for (const w of loaded.warnings) process.stdout.write(`${s.yellow("warning")} ${w.path ? `${w.path}: ` : ""}${w.message}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof PipelineConfigError)) throw err;
    if (opts.json) {
      process.stdout.write(JSON.stringify({ valid: false, source: err.source, issues: err.issues, warnings: [] }, null, 2) + "\n");
      return 1;
    }
    const s = style();
    process.stdout.write(`${s.red("✗")} ${shortPath(err.source, opts.cwd)}: ${err.issues.length} problem${err.issues.length === 1 ? "" : "s"}\n`);
    for (const i of err.issues) process.stdout.write(`  ${i.path ? `${s.bold(i.path)}: ` : ""}${i.message}\n`);
    return 1;
  }
}
