// Which agent CLIs are installed, and which versions. Probes a fixed allow-list only, each with
// `<tool> --version` and a short timeout: doctor never runs a program it was not built to know.
import { tmpdir } from "node:os";
import { CliNotFoundError, errorMessage } from "../../core/errors.ts";
import { ChildRun, resolveProgram } from "./spawn.ts";
import { AGENT_TOOLS, type AgentTool, agentProgram } from "./tools.ts";

export const DOCTOR_TOOLS = (Object.keys(AGENT_TOOLS) as AgentTool[]).map((tool) => ({ tool, ...AGENT_TOOLS[tool] }));

export type DoctorTool = AgentTool;

export interface ToolProbe {
  tool: DoctorTool;
  installed: boolean;
  version?: string;
  path?: string;
  /** Installed but unusable (exit code, no answer), or how to install it when missing. */
  error?: string;
}

export interface ProbeOptions {
  /** Where to look (PATH, STAGECAST_*_BIN); default process.env. */
  env?: Record<string, string | undefined>;
  /** Per probe; default 5000 ms. */
  timeoutMs?: number;
}

export async function probeTools(options: ProbeOptions = {}): Promise<ToolProbe[]> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5000;
  return Promise.all(DOCTOR_TOOLS.map((spec) => probe(spec, env, timeoutMs)));
}

async function probe(
  spec: (typeof DOCTOR_TOOLS)[number],
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<ToolProbe> {
  let path: string;
  try {
    path = await resolveProgram(agentProgram(spec.tool, env), env, spec.tool);
  } catch (err) {
    if (!(err instanceof CliNotFoundError)) throw err;
    return { tool: spec.tool, installed: false, error: `not found; install with ${spec.install} or set ${spec.binEnv}` };
  }
  const signal = AbortSignal.timeout(timeoutMs);
  let run: ChildRun | undefined;
  try {
    run = await ChildRun.start(
      { tool: spec.tool, program: path, args: ["--version"], cwd: tmpdir(), env, stdin: "", output: "chunks", killGraceMs: 200 },
      signal,
    );
    let out = "";
    for await (const chunk of run) {
      out += chunk;
      if (out.length > 4096) break;
    }
    const exit = await run.dispose();
    if (exit.exitCode !== 0) {
      const how = exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`;
      const tail = run.stderrTail();
      return { tool: spec.tool, installed: true, path, error: `--version ${how}${tail ? `: ${tail}` : ""}` };
    }
    return { tool: spec.tool, installed: true, path, version: parseVersion(out) };
  } catch (err) {
    const message = signal.aborted ? `--version gave no answer within ${timeoutMs} ms` : errorMessage(err);
    return { tool: spec.tool, installed: true, path, error: message };
  } finally {
    await run?.dispose();
  }
}

/** "2.1.331 (Claude Code)" → "2.1.331"; output without a version number is shown as printed. */
export function parseVersion(output: string): string {
  const match = /\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?/.exec(output);
  if (match) return match[0];
  return output.trim().split("\n")[0]?.trim().slice(0, 80) || "(no version printed)";
}
