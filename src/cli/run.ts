// `stagecast run`: streams each stage to the terminal (or wire events with --json), writes a result file.
import { readFile } from "node:fs/promises";
import { loadPipeline } from "../core/loader.ts";
import { PipelineExecutor } from "../core/executor.ts";
import { resolveStages } from "../core/resolve.ts";
import { writeResultFile } from "../core/result-file.ts";
import type { RunOverrides } from "../core/types.ts";
import { errorMessage } from "../core/errors.ts";
import { pipelineSecrets } from "../core/secrets.ts";
import { TerminalRenderer } from "./render.ts";
import { UsageError } from "./usage.ts";

export interface RunArgs {
  pipeline: string;
  input?: string;
  inputFile?: string;
  json: boolean;
  overrides: RunOverrides;
  dataDir: string;
  cwd: string;
}

async function readInput(args: RunArgs): Promise<string> {
  if (args.input !== undefined && args.inputFile !== undefined) throw new UsageError("give either --input or --input-file, not both");
  if (args.input !== undefined) return args.input;
  if (args.inputFile !== undefined) {
    try {
      return await readFile(args.inputFile, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --input-file ${args.inputFile}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
  }
  if (!process.stdin.isTTY) {
    const text = await Bun.stdin.text();
    if (text.trim().length > 0) return text;
  }
  throw new UsageError("no input: pass --input TEXT, --input-file FILE, or pipe text on stdin");
}


/** Returns the process exit code: 0 success/early exit, 1 failed, 130 cancelled. */
export async function runCommand(args: RunArgs): Promise<number> {
  const { config } = await loadPipeline(args.pipeline, { cwd: args.cwd });
  const input = await readInput(args);
  const labels = Object.fromEntries(resolveStages(config, args.overrides).map((s) => [s.ref.id, `${s.ref.provider} · ${s.ref.model}`]));
  const tty = Boolean(process.stdout.isTTY);
  const renderer = args.json
    ? undefined
    : new TerminalRenderer({ out: process.stdout, tty, color: tty && !process.env.NO_COLOR, modelLabels: labels });
  const executor = new PipelineExecutor(config, {
    input,
    overrides: args.overrides,
    secrets: pipelineSecrets(config),
    callbacks: args.json ? { onEvent: (e) => process.stdout.write(JSON.stringify(e) + "\n") } : renderer,
  });

  // First Ctrl-C cancels (the model call stops at once); a second one leaves immediately.
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    if (!args.json) process.stderr.write("\ncancelling… (Ctrl-C again to quit at once)\n");
    executor.cancel("cancelled by user (Ctrl-C)");
  };
  process.on("SIGINT", onSigint);
  try {
    const outcome = await executor.run();
    renderer?.dispose();
    try {
      const path = await writeResultFile(args.dataDir, outcome, { pipelineId: config.id, pipelineName: config.name, input });
      if (!args.json) process.stdout.write(`result: ${path}\n`);
    } catch (err) {
      process.stderr.write(`warning: could not write the result file in ${args.dataDir}: ${errorMessage(err)}\n`);
    }
    return outcome.status === "cancelled" ? 130 : outcome.status === "failed" ? 1 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
