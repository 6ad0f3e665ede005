// A run's result as a JSON file in `<dataDir>/results/`, under a name no other run can take.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ExecutionOutcome } from "./types.ts";

export interface ResultMeta {
  pipelineId: string;
  pipelineName: string;
  input: string;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

export async function writeResultFile(dataDir: string, outcome: ExecutionOutcome, meta: ResultMeta): Promise<string> {
  const dir = join(dataDir, "results");
  await mkdir(dir, { recursive: true });
  const stages = Object.fromEntries(
    Object.entries(outcome.stages).map(([id, s]) => [
      id,
      s.status === "failed" ? { status: s.status, output: s.output, error: { code: s.error.code, message: s.error.message } } : s,
    ]),
  );
  const body = JSON.stringify(
    {
      executionId: outcome.executionId,
      pipelineId: meta.pipelineId,
      pipelineName: meta.pipelineName,
      status: outcome.status,
      input: meta.input,
      startedAt: outcome.startedAt,
      endedAt: outcome.endedAt,
      summary: outcome.summary,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      stages,
    },
    null,
    2,
  );
  const base = `${meta.pipelineId}-${stamp(outcome.startedAt)}-${outcome.executionId.slice(0, 8)}`;
  // `wx` fails if the name exists, so two runs can never overwrite each other's result.
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `${base}.json` : `${base}-${n}.json`);
    try {
      await writeFile(path, body + "\n", { flag: "wx" });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n > 100) throw err;
    }
  }
}
