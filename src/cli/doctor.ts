// `stagecast doctor`: which agent CLIs `--mode cli` can use here, as a table or as JSON.
import { type ProbeOptions, type ToolProbe, probeTools } from "../providers/cli/doctor.ts";

export interface DoctorOptions {
  json: boolean;
  /** Default process.stdout. */
  out?: { write(chunk: string): unknown };
  /** Passed to the probes (tests point PATH at fake tools). */
  env?: ProbeOptions["env"];
  timeoutMs?: number;
}

/** Prints the report; resolves to the exit code: 0 when at least one agent CLI works, else 1. */
export async function runDoctor(opts: DoctorOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const probes = await probeTools({ env: opts.env, timeoutMs: opts.timeoutMs });
  if (opts.json) out.write(`${JSON.stringify({ tools: probes })}\n`);
  else out.write(formatTable(probes));
  return probes.some((p) => p.installed && p.version !== undefined) ? 0 : 1;
}

export function formatTable(probes: ToolProbe[]): string {
  const rows = [
    ["tool", "status", "version", "path / note"],
    ...probes.map((p) => [
      p.tool,
      !p.installed ? "missing" : p.error ? "broken" : "ok",
      p.version ?? "-",
      [p.path, p.error].filter(Boolean).join("  "),
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}
