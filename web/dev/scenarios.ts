// Synthetic executions for the harness: wire events as the server would send them.
import type { WireEvent } from "../../src/protocol/events.ts";

type Ev = WireEvent extends infer E ? (E extends WireEvent ? Omit<E, "executionId" | "seq" | "ts"> : never) : never;

export interface StagePlan {
  id: string;
  name: string;
  type: string;
  provider: string;
  model: string;
  text: string;
  /** chunk size in characters */
  chunk: number;
  cost?: { cost: number; costSource: "tool" | "price-table" | "free" | "unknown" };
  fail?: string;
}

const MARKDOWN = `# Summary of the incident

The outage on **Tuesday** lasted *47 minutes* and affected the \`eu-west\` region.

## Timeline

1. 09:12 — alerts fire for elevated 5xx rates
2. 09:19 — on-call engineer acknowledges
3. 09:41 — faulty deploy rolled back
4. 09:59 — error rates back to baseline

## Root cause

A configuration change set the connection pool to \`0\`:

\`\`\`yaml
database:
  pool:
    max: 0   # should have been 50
\`\`\`

| metric | before | during |
|---|---:|---:|
| p99 latency | 180 ms | 9.4 s |
| error rate | 0.1 % | 38 % |

> Lesson: validate configuration at deploy time, not at first request.

<img src=x onerror="alert('xss')"> <script>alert('xss')</script>

- [x] add schema validation for pool settings
- [ ] alert on pool exhaustion
`;

function logLines(n: number): string {
  const levels = ["INFO ", "DEBUG", "WARN ", "INFO "];
  let s = "";
  for (let i = 0; i < n; i++) {
    s += `2026-11-25T04:${String(i % 60).padStart(2, "0")}:00.${String(i % 1000).padStart(3, "0")}Z ${levels[i % 4]} worker-${i % 7} processed batch ${i} of the nightly import (rows=${(i * 7919) % 100000}, retries=${i % 3})\n`;
  }
  return s;
}

const CLI = (() => {
  let s = "\x1b[1mRunning lint on 42 files\x1b[0m\n\n";
  for (let i = 0; i < 30; i++) {
    const ok = i % 5 !== 3;
    s += ok
      ? `\x1b[32m✓\x1b[0m src/module-${i}.ts \x1b[2m(${10 + i} ms)\x1b[0m\n`
      : `\x1b[31m✗\x1b[0m src/module-${i}.ts\n    \x1b[33mwarning\x1b[0m  unused variable \x1b[1m'tmp${i}'\x1b[0m  \x1b[90mno-unused-vars\x1b[0m\n`;
  }
  s += "\n\x1b[1;31m6 problems\x1b[0m (0 errors, 6 warnings)\n\x1b[44;97m DONE \x1b[0m in 1.3s\n";
  return s;
})();

export function scenario(name: string): StagePlan[] {
  if (name === "big") {
    let big = "";
    while (big.length < 1024 * 1024) big += logLines(2000);
    return [
      { id: "ingest", name: "Ingest logs", type: "generate", provider: "openai", model: "gpt-4.1-mini", text: big.slice(0, 1024 * 1024), chunk: 4096, cost: { cost: 0.0412, costSource: "price-table" } },
      { id: "report", name: "Report", type: "generate", provider: "anthropic", model: "claude-haiku-4-5", text: MARKDOWN, chunk: 40 },
    ];
  }
  if (name === "bigcli") {
    let s = "";
    for (let i = 0; s.length < 1024 * 1024; i++) s += `\x1b[3${1 + (i % 6)}m[${i}]\x1b[0m ${logLines(1)}`;
    return [{ id: "build", name: "Build", type: "command", provider: "cli", model: "command", text: s, chunk: 4096, cost: { cost: 0, costSource: "unknown" } }];
  }
  return [
    { id: "draft", name: "Draft", type: "generate", provider: "anthropic", model: "claude-haiku-4-5", text: MARKDOWN, chunk: 24, cost: { cost: 0.00312, costSource: "tool" } },
    { id: "lint", name: "Lint the fix", type: "tool", provider: "cli", model: "command", text: CLI, chunk: 60, cost: { cost: 0, costSource: "unknown" } },
    { id: "review", name: "Review", type: "critique", provider: "openai", model: "gpt-4.1-mini", text: logLines(40), chunk: 50, cost: { cost: 0.0021, costSource: "price-table" } },
    { id: "polish", name: "Polish locally", type: "generate", provider: "local", model: "qwen2.5-1.5b.gguf", text: "Done. The report is ready.\n", chunk: 8, cost: { cost: 0, costSource: "free" } },
    { id: "publish", name: "Publish", type: "publish", provider: "openai", model: "gpt-4.1", text: "", chunk: 10, fail: "ProviderHttpError: 429 Too Many Requests (after 2 retries)" },
  ];
}

/** The whole event sequence of a run of `plans`, with `chunksPerFrame` pacing left to the caller. */
export function* events(plans: StagePlan[]): Generator<Ev> {
  yield { type: "execution:started", pipelineId: "harness", pipelineName: "Incident report (harness)", input: "…", stages: plans.map((p) => ({ id: p.id, name: p.name, type: p.type, provider: p.provider, model: p.model })) };
  for (const [index, p] of plans.entries()) {
    const ref = { id: p.id, name: p.name, type: p.type, provider: p.provider, model: p.model };
    yield { type: "stage:started", stage: ref, index, total: plans.length };
    let offset = 0;
    while (offset < p.text.length) {
      const out = p.text.slice(offset, offset + p.chunk);
      yield { type: "stage:output", stageId: p.id, output: out, offset, isFinal: offset + out.length >= p.text.length };
      offset += out.length;
    }
    if (p.fail) {
      yield { type: "stage:failed", stage: ref, error: p.fail };
      yield { type: "execution:failed", error: `stage ${p.id} failed: ${p.fail}` };
      return;
    }
    yield {
      type: "stage:completed",
      stage: ref,
      result: {
        status: "completed",
        cost: p.cost?.cost ?? 0,
        costSource: p.cost?.costSource,
        costEstimated: p.cost?.costSource === "price-table",
        duration: 0,
        usage: { inputTokens: 900, outputTokens: Math.round(p.text.length / 3.7) },
        timeToFirstToken: null,
      },
    };
  }
  yield {
    type: "execution:completed",
    result: { status: "success", summary: { stagesCompleted: plans.length, stagesSkipped: 0, stagesFailed: 0, totalCost: 0, totalDuration: 0, usage: { inputTokens: 0, outputTokens: 0 }, finalStageId: null } },
  };
}
