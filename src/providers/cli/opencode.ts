// opencode as a stage model: `opencode run --format json`, prompt on stdin (opencode appends piped
// stdin to the message). Translates its JSON events (sst/opencode `cli/cmd/run.ts`):
//   text         → one text delta per finished text part (opencode emits parts whole, not tokens)
//   step_finish  → tokens and cost, summed over the steps of a run
//   error        → a tool failure carrying opencode's own message
//   step_start, tool_use, reasoning, done → ignored
import type { Delta, FinishReason, ModelRequest } from "../types.ts";
import { type CliAdapter, type ToolFailure, type Translator, num, obj, optionValue, parseJsonLine, str } from "./adapter.ts";
import { agentInstallHint, agentProgram } from "./tools.ts";

const FINISH: Record<string, FinishReason> = { stop: "stop", length: "length", "tool-calls": "tool-calls" };

export const opencodeAdapter: CliAdapter = {
  label: "opencode",
  output: "lines",
  installHint: agentInstallHint("opencode"),

  invocation(request: ModelRequest, env) {
    const args = ["run", "--format", "json"];
    // opencode names models provider/model, e.g. anthropic/claude-sonnet-4-5.
    if (request.model.model) args.push(optionValue("--model", request.model.model));
    // opencode has no system-prompt flag for `run`; the stage's system text leads the message.
    const stdin = request.system ? `${request.system}\n\n${request.prompt}` : request.prompt;
    // Deny every tool unless the stage lists it (opencode's permission config, last match wins).
    const permission: Record<string, string> = { "*": "deny" };
    for (const tool of request.model.allowedTools ?? []) permission[tool] = "allow";
    return {
      program: agentProgram("opencode", env),
      args,
      stdin,
      env: { OPENCODE_CONFIG_CONTENT: JSON.stringify({ permission }) },
    };
  },

  translator(): Translator {
    let parts = 0;
    let failure: ToolFailure | undefined;
    let input = 0;
    let output = 0;
    let cacheRead = 0;
    let cacheWrite = 0;
    let cost: number | undefined;
    let steps = 0;
    let reason: FinishReason = "stop";

    return {
      push(line, lineNo) {
        const event = parseJsonLine("opencode", line, lineNo);
        const part = obj(event.part);
        if (event.type === "text") {
          const text = str(part?.text);
          if (!text) return [];
          return [{ type: "text", text: parts++ > 0 ? `\n\n${text}` : text }];
        }
        if (event.type === "step_finish") {
          steps++;
          const tokens = obj(part?.tokens);
          const cache = obj(tokens?.cache);
          input += num(tokens?.input) ?? 0;
          output += (num(tokens?.output) ?? 0) + (num(tokens?.reasoning) ?? 0);
          cacheRead += num(cache?.read) ?? 0;
          cacheWrite += num(cache?.write) ?? 0;
          const stepCost = num(part?.cost);
          if (stepCost !== undefined) cost = (cost ?? 0) + stepCost;
          reason = FINISH[str(part?.reason) ?? ""] ?? "stop";
          return [];
        }
        if (event.type === "error") {
          const error = obj(event.error);
          const message = str(obj(error?.data)?.message) ?? str(error?.name) ?? "unknown error";
          failure = { message: failure ? `${failure.message}\n${message}` : message, retryable: false };
        }
        return [];
      },
      failure: () => failure,
      end(): Delta[] {
        const finish: Delta = { type: "finish", reason };
        if (steps > 0) {
          finish.usage = { inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite };
        }
        if (cost !== undefined) finish.costUsd = cost;
        return [finish];
      },
    };
  },
};
