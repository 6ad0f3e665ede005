// API keys never appear in what stagecast emits: events, result files, responses, logs.

const KEY_ENV_NAMES = ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY", "STAGECAST_TOKEN"];

/** The values of the environment variables that hold secrets (the usual ones plus any a pipeline names). */
export function secretValues(extraEnvNames: Iterable<string> = []): string[] {
  const names = new Set([...KEY_ENV_NAMES, ...extraEnvNames]);
  const values: string[] = [];
  for (const name of names) {
    const value = process.env[name]?.trim();
    // Short values would mask ordinary words; real keys are long.
    if (value && value.length >= 8) values.push(value);
  }
  return values;
}

/** The secrets a pipeline's run can see: the usual key variables plus any `apiKeyEnv` it names. */
export function pipelineSecrets(pipeline: { defaults?: { model?: { apiKeyEnv?: string } }; stages: { model?: { apiKeyEnv?: string } }[] }): string[] {
  const names = [pipeline.defaults?.model?.apiKeyEnv, ...pipeline.stages.map((s) => s.model?.apiKeyEnv)];
  return secretValues(names.filter((n): n is string => !!n));
}

/**
 * Masks secrets in text about to be stored, sent or logged (a provider's error message may quote
 * the key). Same-length asterisks keep every `offset` and chunk size of the wire contract intact.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, "*".repeat(secret.length));
  return out;
}

/**
 * Length of the longest end of `text` that is the start of a secret: text a stream must hold back,
 * because the next delta may complete the secret (it is then masked whole, never sent in halves).
 */
export function secretPrefixAtEnd(text: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > longest; k--) {
      if (text.endsWith(secret.slice(0, k))) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}
