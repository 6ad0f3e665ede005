// Pipeline files (YAML, or a .ts module's default export), as fixed in ARCHITECTURE.md.
// Runtime-agnostic: the browser imports this module too, so no Bun or Node imports here.
import { z } from "zod";

export const PROVIDERS = ["anthropic", "openai", "openai-compatible", "google", "local", "cli"] as const;
export const CLI_TOOLS = ["claude", "opencode", "gemini", "command"] as const;
export const OUTPUT_FORMATS = ["text", "json", "markdown"] as const;

export type ProviderName = (typeof PROVIDERS)[number];
export type CliTool = (typeof CLI_TOOLS)[number];

const id = z
  .string()
  .regex(/^[a-z0-9-]+$/, "must match [a-z0-9-]+ (lowercase letters, digits and dashes)");

export const ModelConfigSchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  /** Model name for API providers and agent CLIs; for `local`, optional (the GGUF path comes from `path`). */
  model: z.string().min(1).optional(),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** API providers: server base URL (OpenAI-style includes /v1; Anthropic is the server root). */
  baseURL: z.url().optional(),
  /** Name of the environment variable holding the API key, when not the provider's usual one. */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  /** local: path to a GGUF file (default: STAGECAST_LOCAL_MODEL, then the cached demo model). */
  path: z.string().min(1).optional(),
  /** cli: which agent CLI runs the stage. */
  tool: z.enum(CLI_TOOLS).optional(),
  /** cli + tool command: the program and its arguments, an argv array (never a shell string). */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** cli: tools the agent may use (none unless listed). */
  allowedTools: z.array(z.string().min(1)).optional(),
  /** cli: working directory for the spawned tool (default: a fresh temp dir per run). */
  cwd: z.string().min(1).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A test on one value found by `path` (e.g. `stages.draft.data.verdict`, `stages.draft.output`, `input`). */
export const LeafConditionSchema = z.strictObject({
  path: z.string().min(1),
  equals: scalar.optional(),
  notEquals: scalar.optional(),
  in: z.array(scalar).optional(),
  contains: z.string().optional(),
  matches: z.string().optional(),
  exists: z.boolean().optional(),
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
});
export type LeafCondition = z.infer<typeof LeafConditionSchema>;

export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    LeafConditionSchema,
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
  ]),
);

export const ExtractSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an identifier"),
  /** Dotted path into the parsed JSON, e.g. `result.items.0.title`. */
  path: z.string().min(1),
  required: z.boolean().optional(),
});

export const OutputSpecSchema = z.strictObject({
  format: z.enum(OUTPUT_FORMATS).default("text"),
  extract: z.array(ExtractSchema).optional(),
});
export type OutputSpec = z.infer<typeof OutputSpecSchema>;

export const StageConfigSchema = z.strictObject({
  id,
  name: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  model: ModelConfigSchema.partial().optional(),
  system: z.string().optional(),
  prompt: z.string().min(1),
  output: OutputSpecSchema.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  timeoutMs: z.number().int().positive().optional(),
  skipIf: ConditionSchema.optional(),
  runIf: ConditionSchema.optional(),
  earlyExit: ConditionSchema.optional(),
  continueOnError: z.boolean().optional(),
});
export type StageConfig = z.infer<typeof StageConfigSchema>;

export const PipelineDefaultsSchema = z.strictObject({
  model: ModelConfigSchema.partial().optional(),
  system: z.string().optional(),
  retries: z.number().int().min(0).max(10).optional(),
  timeoutMs: z.number().int().positive().optional(),
});

export const PipelineConfigSchema = z.strictObject({
  id,
  name: z.string().min(1),
  description: z.string().optional(),
  defaults: PipelineDefaultsSchema.optional(),
  stages: z.array(StageConfigSchema).min(1, "a pipeline needs at least one stage"),
});
export type PipelineConfig = z.infer<typeof PipelineConfigSchema>;

/** One problem in a pipeline file: `path` as printed to users, e.g. `stages[2].prompt`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; config: PipelineConfig; warnings: ValidationIssue[] }
  | { ok: false; issues: ValidationIssue[] };

export const DEFAULT_RETRIES = 2;
export const DEFAULT_TIMEOUT_MS = 300_000;
