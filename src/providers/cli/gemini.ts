// Gemini CLI as a stage model: `gemini -o stream-json`, prompt on stdin (headless mode reads piped
// stdin as the prompt; `-p` would need the prompt as an argument). Translates its JSON lines
// (google-gemini/gemini-cli `packages/core/src/output/types.ts`):
//   message (role assistant)  → text deltas as they arrive; the user echo is ignored
//   result                    → usage from `stats`; status "error" → a tool failure
//   init, tool_use, tool_result, error (non-fatal warnings) → ignored
import type { Delta, ModelRequest } from "../types.ts";
import type { Usage } from "../../protocol/events.ts";
import { type CliAdapter, type ToolFailure, type Translator, num, obj, optionValue, parseJsonLine, str } from "./adapter.ts";
import { agentInstallHint, agentProgram } from "./tools.ts";

export const geminiAdapter: CliAdapter = {
  label: "gemini",
  output: "lines",
  installHint: agentInstallHint("gemini"),

  invocation(request: ModelRequest, env) {
    const args = ["-o", "stream-json"];
    if (request.model.model) args.push(optionValue("--model", request.model.model));
    // Headless gemini runs no tool that needs approval; listed tools are pre-approved.
    const allowed = request.model.allowedTools ?? [];
    if (allowed.length > 0) args.push(optionValue("--allowed-tools", allowed.join(",")));
    // gemini has no system-prompt flag (only a GEMINI_SYSTEM_MD file that replaces its own prompt).
    const stdin = request.system ? `${request.system}\n\n${request.prompt}` : request.prompt;
    return { program: agentProgram("gemini", env), args, stdin };
  },

  translator(): Translator {
    let failure: ToolFailure | undefined;
    let usage: Usage | undefined;
    let wroteText = false;
    let toolSinceText = false;

    return {
      push(line, lineNo) {
        const event = parseJsonLine("gemini", line, lineNo);
        if (event.type === "message" && event.role === "assistant") {
          const text = str(event.content);
          if (!text) return [];
          // Text after a tool call is a new turn; keep it from running into the previous one.
          const out = wroteText && toolSinceText ? `\n\n${text}` : text;
          wroteText = true;
          toolSinceText = false;
          return [{ type: "text", text: out }];
        }
        if (event.type === "tool_result") {
          toolSinceText = true;
          return [];
        }
        if (event.type === "result") {
          const stats = obj(event.stats);
          if (stats) {
            usage = {
              inputTokens: num(stats.input_tokens) ?? 0,
              outputTokens: num(stats.output_tokens) ?? 0,
              cacheReadTokens: num(stats.cached),
            };
          }
          if (event.status === "error") {
            const error = obj(event.error);
            const message = str(error?.message) ?? "the run failed";
            const type = str(error?.type);
            failure = { message: type ? `${type}: ${message}` : message, retryable: false };
          }
        }
        return [];
      },
      failure: () => failure,
      end(): Delta[] {
        const finish: Delta = { type: "finish", reason: "stop" };
        if (usage) finish.usage = usage;
        return [finish];
      },
    };
  },
};
