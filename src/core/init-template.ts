// `stagecast init <name>`: a small, commented pipeline that validates and runs as-is on the local model.
import { PipelineConfigError } from "./errors.ts";

const ID = /^[a-z0-9-]+$/;

/** Why `id` cannot name a pipeline, or undefined when it can. */
export function pipelineIdProblem(id: string): string | undefined {
  if (ID.test(id)) return undefined;
  const suggestion = id.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return (
    `${JSON.stringify(id)} is not a valid pipeline id: use lowercase letters, digits and dashes` +
    (suggestion && suggestion !== id ? ` (e.g. ${suggestion})` : "")
  );
}

function titleOf(id: string): string {
  const words = id.split("-").filter(Boolean).join(" ");
  return words ? words[0]!.toUpperCase() + words.slice(1) : id;
}

export function initTemplate(id: string): string {
  const problem = pipelineIdProblem(id);
  if (problem) throw new PipelineConfigError(id, [{ path: "id", message: problem }]);
  return `# ${id}: a stagecast pipeline. Each stage renders its prompt, calls a model, and hands its
# answer to the stages after it. Run it:   stagecast run ${id} --input "your text"
# Check it after editing:                 stagecast validate ${id}
id: ${id}
name: ${titleOf(id)}
description: Drafts an answer to the input, then improves it.

# Every stage inherits these; a stage's own \`model:\` overrides them field by field.
# provider local runs a small GGUF model in-process (no key needed). Switch a run to another
# kind of model with --mode api (uses ANTHROPIC_API_KEY, OPENAI_API_KEY or
# GOOGLE_GENERATIVE_AI_API_KEY) or --mode cli --tool claude, or write e.g.
#   model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 1024 }
defaults:
  model: { provider: local, maxTokens: 160, temperature: 0.4 }
  retries: 1

stages:
  - id: draft
    name: Draft
    # {{input}} is the run's input text.
    prompt: |
      Answer the following clearly and briefly.

      {{input}}

  - id: improve
    name: Improve
    system: You are a careful editor.
    # {{stages.<id>.output}} is an earlier stage's full answer. With output: { format: json },
    # {{stages.<id>.data.<path>}} reads a field of it, and skipIf / runIf / earlyExit can test it.
    prompt: |
      Improve this answer: fix mistakes, remove repetition, keep it short.
      Reply with the improved answer only.

      Question:
      {{input}}

      Answer:
      {{stages.draft.output}}
`;
}
