// A stage's effective settings: pipeline defaults, then the stage, then the run's --mode/--tool.
import {
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type ModelConfig,
  type OutputSpec,
  type PipelineConfig,
  type ProviderName,
  type StageConfig,
} from "../protocol/pipeline.ts";
import type { StageRef } from "../protocol/events.ts";
import type { ResolvedModelConfig } from "../providers/types.ts";
import type { RunOverrides } from "./types.ts";
import { DEFAULT_MODELS } from "../providers/api/config.ts";

export interface ResolvedStage {
  ref: StageRef;
  index: number;
  config: StageConfig;
  model: ResolvedModelConfig;
  system?: string;
  retries: number;
  timeoutMs: number;
  output: OutputSpec;
}

type PartialModel = Partial<ModelConfig>;

export const API_PROVIDERS: readonly ProviderName[] = ["anthropic", "openai", "openai-compatible", "google"];

/** `--mode api` for a stage not on an API provider: the first provider whose key is set. */
export const API_FALLBACKS: readonly { env: string; model: ResolvedModelConfig }[] = [
  { env: "ANTHROPIC_API_KEY", model: { provider: "anthropic", model: DEFAULT_MODELS.anthropic } },
  { env: "OPENAI_API_KEY", model: { provider: "openai", model: DEFAULT_MODELS.openai } },
  { env: "GOOGLE_GENERATIVE_AI_API_KEY", model: { provider: "google", model: DEFAULT_MODELS.google } },
];

function definedOnly<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** Fields that mean the same on every provider, so they carry across a provider change. */
function generic(m: PartialModel): PartialModel {
  return definedOnly({ maxTokens: m.maxTokens, temperature: m.temperature });
}

/**
 * defaults.model then stage.model, field by field. When the stage names a different provider, the
 * defaults' provider-specific fields (model, baseURL, path, tool, command…) would be nonsense there,
 * so only maxTokens/temperature carry over.
 */
export function mergeModel(defaults: PartialModel | undefined, stage: PartialModel | undefined): PartialModel {
  const d = defaults ?? {};
  const s = definedOnly(stage ?? {});
  if (s.provider !== undefined && d.provider !== undefined && s.provider !== d.provider) {
    return { ...generic(d), ...s };
  }
  // Same for a different agent CLI: another tool's model name or argv means nothing to this one,
  // while the sandbox settings (cwd, allowedTools) still apply.
  if ((s.provider ?? d.provider) === "cli" && s.tool !== undefined && d.tool !== undefined && s.tool !== d.tool) {
    return { ...generic(d), ...definedOnly({ provider: d.provider, cwd: d.cwd, allowedTools: d.allowedTools }), ...s };
  }
  return { ...definedOnly(d), ...s };
}

function applyOverrides(model: PartialModel, overrides: RunOverrides | undefined, env: Record<string, string | undefined>): PartialModel {
  const mode = overrides?.mode ?? (overrides?.tool ? "cli" : undefined);
  if (!mode) return model;
  if (mode === "local") {
    if (model.provider === "local") return model;
    return { provider: "local", ...generic(model) };
  }
  if (mode === "cli") {
    const tool = overrides?.tool ?? "claude";
    // Already on the requested CLI (or on any CLI when no tool is named): keep the stage's own settings.
    if (model.provider === "cli" && (overrides?.tool === undefined || model.tool === tool)) return model;
    const keepName = model.provider === "anthropic" && tool === "claude" && model.model !== undefined;
    return { provider: "cli", tool, ...(keepName ? { model: model.model } : {}), ...generic(model) };
  }
  if (model.provider !== undefined && API_PROVIDERS.includes(model.provider)) return model;
  const pick = API_FALLBACKS.find((f) => env[f.env]) ?? API_FALLBACKS[0]!;
  return { ...pick.model, ...generic(model) };
}

/**
 * The effective settings of stage `index`. `env` (default process.env) decides which API provider
 * `--mode api` falls back to. `model.provider` is set for every pipeline validatePipeline accepts
 * (it refuses a stage with no provider anywhere), which is why the cast below is sound.
 */
export function resolveStage(
  pipeline: PipelineConfig,
  index: number,
  overrides?: RunOverrides,
  env: Record<string, string | undefined> = process.env,
): ResolvedStage {
  const config = pipeline.stages[index];
  if (!config) throw new RangeError(`no stage at index ${index} (the pipeline has ${pipeline.stages.length})`);
  const defaults = pipeline.defaults;
  const model = applyOverrides(mergeModel(defaults?.model, config.model), overrides, env) as ResolvedModelConfig;
  const system = config.system ?? defaults?.system;
  return {
    ref: {
      id: config.id,
      name: config.name ?? config.id,
      type: config.type ?? "generate",
      provider: model.provider,
      model: modelLabel(model),
    },
    index,
    config,
    model,
    ...(system !== undefined ? { system } : {}),
    retries: config.retries ?? defaults?.retries ?? DEFAULT_RETRIES,
    timeoutMs: config.timeoutMs ?? defaults?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    output: config.output ?? { format: "text" },
  };
}

export function resolveStages(
  pipeline: PipelineConfig,
  overrides?: RunOverrides,
  env: Record<string, string | undefined> = process.env,
): ResolvedStage[] {
  return pipeline.stages.map((_, i) => resolveStage(pipeline, i, overrides, env));
}

/** A short label of what runs a stage: the model name, the agent CLI (and its model), or the GGUF file. */
export function modelLabel(model: ResolvedModelConfig): string {
  if (model.provider === "cli") {
    const tool = model.tool === "command" ? (model.command?.[0]?.split("/").pop() ?? "command") : (model.tool ?? "claude");
    return model.model ? `${tool} · ${model.model}` : tool;
  }
  if (model.provider === "local") return model.path ? (model.path.split(/[\\/]/).pop() ?? model.path) : "SmolLM2-135M-Instruct";
  return model.model ?? (DEFAULT_MODELS as Record<string, string>)[model.provider] ?? model.provider;
}
