// Local provider speed on the demo model: load time, time to first token and decode rate, measured
// through the provider (so a context's set-up is included in time to first token, as a stage sees it).
// Usage: bun bench/local-model.ts [--quick]
import { createLocalProvider, loadLocalModel } from "../src/providers/local/llama.ts";
import { resolveLocalModelPath } from "../src/providers/local/model-path.ts";

const quick = process.argv.includes("--quick");
const runs = quick ? 3 : 10;
const maxTokens = 96;
const prompts = [
  "Explain in two sentences why the sky is blue.",
  "Write a short poem about a lighthouse.",
  "List five uses for a paperclip.",
  "Describe a cat to someone who has never seen one.",
  "Give three tips for writing clear code.",
];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

const path = resolveLocalModelPath({ provider: "local" });
const loadStart = performance.now();
await loadLocalModel(path);
const loadMs = performance.now() - loadStart;
console.log(`model: ${path}`);
console.log(`load: ${loadMs.toFixed(0)} ms`);

const provider = createLocalProvider();
const ttfts: number[] = [];
const rates: number[] = [];
for (let i = 0; i < runs; i++) {
  const prompt = prompts[i % prompts.length]!;
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
  const ttft = first - start;
  // Decode rate: tokens after the first, over the time after the first.
  const rate = outputTokens > 1 ? ((outputTokens - 1) * 1000) / (end - first) : 0;
  ttfts.push(ttft);
  rates.push(rate);
  console.log(`run ${i + 1}/${runs}: ttft ${ttft.toFixed(0)} ms, ${outputTokens} tokens, ${rate.toFixed(1)} tokens/s`);
}

const medianTtft = percentile(ttfts, 50);
const medianRate = percentile(rates, 50);
console.log(`time to first token: median ${medianTtft.toFixed(0)} ms, p90 ${percentile(ttfts, 90).toFixed(0)} ms`);
console.log(`decode: median ${medianRate.toFixed(1)} tokens/s`);
console.log(`local_ttft_ms=${Math.round(medianTtft)} local_tokens_per_s=${medianRate.toFixed(1)}`);
