// Maps a stage's `model.provider` to its Provider. Modules load lazily so an API-only run never
// loads node-llama-cpp, and a local run never loads the HTTP SDKs.
import type { ProviderName } from "../protocol/pipeline.ts";
import type { Provider, ResolvedModelConfig } from "./types.ts";

const cache = new Map<ProviderName, Promise<Provider>>();

async function create(name: ProviderName): Promise<Provider> {
  switch (name) {
    case "anthropic":
      return (await import("./api/anthropic.ts")).createAnthropicProvider();
    case "openai":
    case "openai-compatible":
      return (await import("./api/openai.ts")).createOpenAIProvider(name);
    case "google":
      return (await import("./api/google.ts")).createGoogleProvider();
    case "local":
      return (await import("./local/llama.ts")).createLocalProvider();
    case "cli":
      return (await import("./cli/index.ts")).createCliProvider();
  }
}

export function resolveProvider(model: ResolvedModelConfig): Promise<Provider> {
  let provider = cache.get(model.provider);
  if (!provider) {
    provider = create(model.provider);
    cache.set(model.provider, provider);
    // A failed load (a module that could not be imported) must not fail every later run too.
    provider.catch(() => cache.delete(model.provider));
  }
  return provider;
}
