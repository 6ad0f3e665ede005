// Local provider speed on the demo model: load time, time to first token and decode rate, measured
// through the provider (so a context's set-up is included in time to first token, as a stage sees it).
// Usage: bun bench/local-model.ts [--quick]
import { createLocalProvider, loadLocalModel } from "../src/providers/local/llama.ts";
import { resolveLocalModelPath } from "../src/providers/local/model-path.ts";
import { percentile, quickFlag } from "./lib/proc.ts";

export interface LocalModelResult {
  model: string | null;
  runs: number;
  loadMs: number;
  ttftMedianMs: number;
  ttftP90Ms: number;
  tokensPerSecondMedian: number;
  /** why it was not measured (no demo model), or null */
  skipped: string | null;
}

const PROMPTS = [
  "Explain in two sentences why the sky is blue.",
  "Write a short poem about a lighthouse.",
  "List five uses for a paperclip.",
  "Describe a cat to someone who has never seen one.",
  "Give three tips for writing clear code.",
];

export async function benchLocalModel(opts: { quick: boolean; log?: (line: string) => void }): Promise<LocalModelResult> {
  const log = opts.log ?? console.log;
  const runs = opts.quick ? 3 : 10;
  const maxTokens = 96;
  let path: string;
  try {
    path = resolveLocalModelPath({ provider: "local" });
  } catch (err) {
    return { model: null, runs: 0, loadMs: Number.NaN, ttftMedianMs: Number.NaN, ttftP90Ms: Number.NaN, tokensPerSecondMedian: Number.NaN, skipped: (err as Error).message };
  }
  const loadStart = performance.now();
  await loadLocalModel(path);
  const loadMs = performance.now() - loadStart;
  const provider = createLocalProvider();
  const ttfts: number[] = [];
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const prompt = PROMPTS[i % PROMPTS.length] as string;
    const start = performance.now();
    let first: number | undefined;
    let outputTokens = 0;
    for await (const delta of provider.stream(
      { model: { provider: "local", maxTokens, temperature: 0 }, system: "You are a helpful assistant.", prompt },
      { signal: new AbortController().signal },
    )) {
      if (delta.type === "text") first ??= performance.now();
      if (delta.type === "finish") outputTokens = delta.usage?.outputTokens ?? 0;
    }
    const end = performance.now();
    if (first === undefined) throw new Error(`run ${i + 1}: the model produced no text`);
    // Decode rate: tokens after the first, over the time after the first.
    const rate = outputTokens > 1 ? ((outputTokens - 1) * 1000) / (end - first) : 0;
    ttfts.push(first - start);
    rates.push(rate);
    log(`  run ${i + 1}/${runs}: ttft ${(first - start).toFixed(0)} ms, ${outputTokens} tokens, ${rate.toFixed(1)} tokens/s`);
  }
  return {
    model: path,
    runs,
    loadMs: Math.round(loadMs),
    ttftMedianMs: Math.round(percentile(ttfts, 50)),
    ttftP90Ms: Math.round(percentile(ttfts, 90)),
    tokensPerSecondMedian: Math.round(percentile(rates, 50) * 10) / 10,
    skipped: null,
  };
}

export function printLocalModel(r: LocalModelResult, log = console.log): void {
  if (r.skipped) {
    log(`local model: not measured (${r.skipped})`);
    log("local_ttft_ms=na local_tokens_per_s=na");
    return;
  }
  log(`local model: ${r.model}, ${r.runs} runs of up to 96 tokens at temperature 0`);
  log(`  load ${r.loadMs} ms; time to first token median ${r.ttftMedianMs} ms, p90 ${r.ttftP90Ms} ms; decode median ${r.tokensPerSecondMedian} tokens/s`);
  log(`local_ttft_ms=${r.ttftMedianMs} local_tokens_per_s=${r.tokensPerSecondMedian}`);
}

if (import.meta.main) printLocalModel(await benchLocalModel({ quick: quickFlag() }));
