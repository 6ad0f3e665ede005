// The `cli` provider: a stage's model is an agent CLI (Claude Code, opencode, Gemini CLI) or any
// program. Dispatches on `model.tool` to one adapter per tool; the adapters translate each tool's
// own output, spawn.ts runs the child, and this file turns exits and silences into stage errors.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CliTool } from "../../protocol/pipeline.ts";
import {
  CliExitError,
  CliToolError,
  ProviderConfigError,
  ProviderProtocolError,
} from "../../core/errors.ts";
import type { Delta, ModelRequest, Provider, StreamOptions } from "../types.ts";
import { type CliAdapter, MalformedLineError } from "./adapter.ts";
import { claudeAdapter } from "./claude.ts";
import { commandAdapter } from "./command.ts";
import { geminiAdapter } from "./gemini.ts";
import { opencodeAdapter } from "./opencode.ts";
import { ChildRun } from "./spawn.ts";

const ADAPTERS: Record<CliTool, CliAdapter> = {
  claude: claudeAdapter,
  opencode: opencodeAdapter,
  gemini: geminiAdapter,
  command: commandAdapter,
};

export interface CliProviderOptions {
  /** Environment for the children and for finding the tools (default: process.env at each call). */
  env?: Record<string, string | undefined>;
  /** SIGTERM → SIGKILL grace when a call is cancelled (default 1500 ms). */
  killGraceMs?: number;
}

export function createCliProvider(options: CliProviderOptions = {}): Provider {
  return {
    id: "cli",
    stream: (request, streamOptions) => streamCli(request, streamOptions, options),
  };
}

async function* streamCli(
  request: ModelRequest,
  { signal }: StreamOptions,
  options: CliProviderOptions,
): AsyncGenerator<Delta> {
  signal.throwIfAborted();
  const tool = request.model.tool;
  if (!tool || !Object.hasOwn(ADAPTERS, tool)) {
    throw new ProviderConfigError(`cli: model.tool must be one of ${Object.keys(ADAPTERS).join(", ")}`);
  }
  const adapter = ADAPTERS[tool];
  const baseEnv = options.env ?? process.env;
  const invocation = adapter.invocation(request, baseEnv);
  const label = invocation.label ?? adapter.label;

  let tempDir: string | undefined;
  let run: ChildRun | undefined;
  try {
    let cwd = request.cwd;
    if (!cwd) {
      // No cwd from the executor: still never run an agent in the server's own checkout.
      tempDir = await mkdtemp(path.join(tmpdir(), "stagecast-cli-"));
      cwd = tempDir;
    }
    run = await ChildRun.start(
      {
        tool: label,
        program: invocation.program,
        args: invocation.args,
        cwd,
        env: { ...baseEnv, ...invocation.env },
        stdin: invocation.stdin,
        output: adapter.output,
        installHint: adapter.installHint,
        killGraceMs: options.killGraceMs,
      },
      signal,
    );

    const translator = adapter.translator();
    let lineNo = 0;
    let wroteText = false;
    for await (const item of run) {
      lineNo++;
      // A blank line carries nothing in any tool's JSON lines (raw chunks are text: all kept).
      if (adapter.output === "lines" && item.trim() === "") continue;
      let deltas: Delta[];
      try {
        deltas = translator.push(item, lineNo);
      } catch (err) {
        if (!(err instanceof MalformedLineError)) throw err;
        await run.dispose();
        throw new ProviderProtocolError("cli", `${err.detail}${stderrNote(run.stderrTail())}`);
      }
      for (const delta of deltas) {
        if (delta.type === "text") wroteText = true;
        yield delta;
      }
    }

    const exit = await run.exited();
    const stderrTail = run.stderrTail();
    const failure = translator.failure();
    if (failure) {
      throw new CliToolError(label, failure.message, {
        exitCode: exit.exitCode,
        stderrTail,
        retryable: failure.retryable,
      });
    }
    if (exit.exitCode !== 0) throw new CliExitError(label, exit.exitCode, exit.signal, stderrTail);
    if (!wroteText) {
      throw new ProviderProtocolError("cli", `${label} printed no output (exit code 0)${stderrNote(stderrTail)}`);
    }
    yield* translator.end();
  } finally {
    // Reaped before anything propagates: cancel, errors and early `return()` all end here.
    await run?.dispose();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

function stderrNote(tail: string): string {
  return tail ? `; last stderr lines:\n${tail}` : "; stderr was empty";
}
