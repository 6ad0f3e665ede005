import { describe, expect, test } from "bun:test";
import { estimateCost, lookupPrice } from "../../src/core/cost.ts";
import table from "../../src/core/prices.json";

describe("estimateCost", () => {
  test("input and output at the model's rates", () => {
    // claude-haiku-4-5: $1 in, $5 out per MTok → 1000 in = $0.001, 2000 out = $0.01
    expect(estimateCost("anthropic", "claude-haiku-4-5", { inputTokens: 1000, outputTokens: 2000 })).toEqual({
      cost: 0.011,
      known: true,
    });
    // gpt-4o-mini: $0.15 / $0.60 → 1M in + 1M out = $0.75
    expect(estimateCost("openai", "gpt-4o-mini", { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toEqual({
      cost: 0.75,
      known: true,
    });
    // gemini-2.5-flash: $0.30 / $2.50 → 10k in = $0.003, 4k out = $0.01
    expect(estimateCost("google", "gemini-2.5-flash", { inputTokens: 10_000, outputTokens: 4_000 })).toEqual({
      cost: 0.013,
      known: true,
    });
  });

  test("cache reads and writes at their own rates", () => {
    // claude-sonnet-4-5: in $3, out $15, cache read $0.30, cache write $3.75
    // 100k in = 0.3, 10k out = 0.15, 1M cache read = 0.3, 200k cache write = 0.75 → 1.5
    const usage = { inputTokens: 100_000, outputTokens: 10_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 200_000 };
    expect(estimateCost("anthropic", "claude-sonnet-4-5", usage)).toEqual({ cost: 1.5, known: true });
    // gpt-4o: in $2.50, cached $1.25, out $10 → 2000 in = 0.005, 8000 cached = 0.01, 500 out = 0.005
    expect(
      estimateCost("openai", "gpt-4o", { inputTokens: 2000, outputTokens: 500, cacheReadTokens: 8000 }),
    ).toEqual({ cost: 0.02, known: true });
  });

  test("opus 4.1 keeps the old tier, opus 4.5 the new one", () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(estimateCost("anthropic", "claude-opus-4-1", usage).cost).toBe(90);
    expect(estimateCost("anthropic", "claude-opus-4-5", usage).cost).toBe(30);
  });

  test("dated and suffixed ids match their base model, the longest key wins", () => {
    expect(lookupPrice("anthropic", "claude-haiku-4-5-20251001")).toEqual(lookupPrice("anthropic", "claude-haiku-4-5"));
    expect(lookupPrice("anthropic", "claude-opus-4-1-20250805")?.input).toBe(15);
    expect(lookupPrice("anthropic", "claude-opus-4-20250514")?.input).toBe(15);
    expect(lookupPrice("anthropic", "claude-sonnet-4-5-20250929")?.cacheWrite).toBe(3.75);
    expect(lookupPrice("openai", "gpt-4o-mini-2024-07-18")?.input).toBe(0.15);
    expect(lookupPrice("openai", "gpt-4o-2024-08-06")?.input).toBe(2.5);
    expect(lookupPrice("openai", "gpt-4.1-nano-2025-04-14")?.input).toBe(0.1);
    expect(lookupPrice("openai", "o4-mini-2025-04-16")?.cacheRead).toBe(0.275);
    expect(lookupPrice("google", "gemini-2.5-flash-preview-09-2025")?.output).toBe(2.5);
    expect(lookupPrice("google", "gemini-2.5-flash-lite")?.output).toBe(0.4);
    expect(lookupPrice("google", "models/gemini-2.5-pro")?.input).toBe(1.25);
  });

  test("a further version number is another model, not a dated id", () => {
    expect(lookupPrice("anthropic", "claude-opus-4-9")).toBeUndefined();
    expect(lookupPrice("anthropic", "claude-sonnet-4-7")).toBeUndefined();
    expect(lookupPrice("openai", "gpt-4o2")).toBeUndefined();
  });

  test("no model: the provider's default model is priced", () => {
    expect(estimateCost("anthropic", undefined, { inputTokens: 1_000_000, outputTokens: 0 })).toEqual({ cost: 1, known: true });
    expect(estimateCost("openai", undefined, { inputTokens: 0, outputTokens: 1_000_000 })).toEqual({ cost: 0.6, known: true });
    expect(estimateCost("google", undefined, { inputTokens: 1_000_000, outputTokens: 0 })).toEqual({ cost: 0.3, known: true });
  });

  test.each([
    ["local", "tinyllama.gguf"],
    ["cli", "sonnet"],
    ["openai-compatible", "gpt-4o-mini"],
    ["anthropic", "claude-unreleased-9"],
    ["openai", "my-finetune"],
  ])("%s / %s → cost 0, known false", (provider, model) => {
    expect(estimateCost(provider, model, { inputTokens: 5000, outputTokens: 5000 })).toEqual({ cost: 0, known: false });
  });

  test("zero usage costs zero but is known", () => {
    expect(estimateCost("anthropic", "claude-haiku-4-5", { inputTokens: 0, outputTokens: 0 })).toEqual({ cost: 0, known: true });
  });

  test("every table entry has four non-negative prices, output at least input", () => {
    for (const [provider, models] of Object.entries(table)) {
      if (provider.startsWith("_")) continue;
      for (const [model, price] of Object.entries(models as Record<string, Record<string, number>>)) {
        expect(Object.keys(price).sort(), `${provider}/${model}`).toEqual(["cacheRead", "cacheWrite", "input", "output"]);
        for (const value of Object.values(price)) expect(value).toBeGreaterThanOrEqual(0);
        expect(price.output! >= price.input!, `${provider}/${model}`).toBe(true);
      }
    }
  });
});
