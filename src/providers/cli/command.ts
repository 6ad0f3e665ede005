// Any program as a stage model: `model.command` is an argv array from the pipeline file (never a
// shell string), the prompt goes to stdin, and stdout is the stage's text exactly as printed —
// ANSI colour codes included, for the viewer's terminal view to render.
import { ProviderConfigError } from "../../core/errors.ts";
import type { Delta, ModelRequest } from "../types.ts";
import type { CliAdapter, Translator } from "./adapter.ts";

export const commandAdapter: CliAdapter = {
  label: "command",
  output: "chunks",
  installHint: "check the program named in the stage's model.command",

  invocation(request: ModelRequest) {
    const [program, ...args] = request.model.command ?? [];
    if (!program) {
      throw new ProviderConfigError("cli: tool `command` needs model.command, the program and its arguments as a list");
    }
    // The system text has no place in a bare program's stdin; it gets it from the environment.
    const env: Record<string, string> = {};
    if (request.system) env.STAGECAST_SYSTEM_PROMPT = request.system;
    if (request.model.model) env.STAGECAST_MODEL = request.model.model;
    return { program, args, stdin: request.prompt, env, label: `command ${JSON.stringify(program)}` };
  },

  translator(): Translator {
    return {
      push: (chunk) => (chunk === "" ? [] : [{ type: "text", text: chunk }]),
      failure: () => undefined,
      end: (): Delta[] => [{ type: "finish", reason: "stop" }],
    };
  },
};
