// Settings shared by the HTTP API providers: where the key comes from and what a missing one says.
import { ProviderConfigError } from "../../core/errors.ts";

/** The model each API provider uses when a stage names none (also what cost estimates price). */
export const DEFAULT_MODELS = {
  anthropic: "claude-haiku-4-5",
  openai: "gpt-4o-mini",
  google: "gemini-2.5-flash",
} as const;

/** max_tokens when a stage sets none. */
export const DEFAULT_MAX_TOKENS = 1024;

/** Reads the API key from `envName`; when `required` and unset (or blank), a ProviderConfigError naming the variable. */
export function apiKeyFrom(provider: string, envName: string, required: true): string;
export function apiKeyFrom(provider: string, envName: string, required: boolean): string | undefined;
export function apiKeyFrom(provider: string, envName: string, required: boolean): string | undefined {
  const value = process.env[envName]?.trim();
  if (value) return value;
  if (required) {
    throw new ProviderConfigError(
      `${provider}: no API key: the environment variable ${envName} is not set ` +
        `(set it, or point the stage's model.apiKeyEnv at the variable that holds the key)`,
    );
  }
  return undefined;
}
