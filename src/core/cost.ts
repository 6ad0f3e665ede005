// Cost estimates from our price table (prices.json, kept as data so a price change is a one-line
// diff). Only the first-party API providers are priced: an openai-compatible server, a local model
// or an agent CLI has no price we can know (agent CLIs report their own cost instead).
import type { Usage } from "../protocol/events.ts";
import { DEFAULT_MODELS } from "../providers/api/config.ts";
import table from "./prices.json";

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

type PricedProvider = keyof typeof DEFAULT_MODELS;
const PRICES = table as unknown as Record<PricedProvider, Record<string, ModelPrice>>;

function isPriced(provider: string): provider is PricedProvider {
  return Object.hasOwn(DEFAULT_MODELS, provider);
}

/**
 * The price of `model` (or the provider's default model when unset). Dated and suffixed ids match
 * their base entry (`claude-haiku-4-5-20251001`, `gpt-4o-2024-08-06`, `gemini-2.5-flash-preview-09-2025`);
 * the longest matching key wins (`gpt-4o-mini` over `gpt-4o`). A suffix that is a further version
 * number (`claude-opus-4-9` against `claude-opus-4`) is a different model and does not match.
 */
export function lookupPrice(provider: string, model: string | undefined): ModelPrice | undefined {
  if (!isPriced(provider)) return undefined;
  const id = (model ?? DEFAULT_MODELS[provider]).trim().toLowerCase().replace(/^models\//, "");
  const entries = PRICES[provider];
  let best: string | undefined;
  for (const key of Object.keys(entries)) {
    if (!id.startsWith(key)) continue;
    const rest = id.slice(key.length);
    const boundary = rest === "" || /^[-@:[]/.test(rest);
    const anotherVersion = /^-\d{1,2}(?!\d)/.test(rest);
    if (boundary && !anotherVersion && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : entries[best];
}

/** USD for one call; `known: false` (cost 0) when there is no price for the provider or model. */
export function estimateCost(provider: string, model: string | undefined, usage: Usage): { cost: number; known: boolean } {
  const price = lookupPrice(provider, model);
  if (!price) return { cost: 0, known: false };
  const microDollars =
    usage.inputTokens * price.input +
    usage.outputTokens * price.output +
    (usage.cacheReadTokens ?? 0) * price.cacheRead +
    (usage.cacheWriteTokens ?? 0) * price.cacheWrite;
  // Rounded to 1e-10 USD so sums of float prices print as the figures a person would compute.
  return { cost: Math.round(microDollars * 1e4) / 1e10, known: true };
}
