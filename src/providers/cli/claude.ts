// Claude Code as a stage model: `claude -p --output-format stream-json --verbose
// --include-partial-messages`, prompt on stdin. Translates its stream-json lines:
//   stream_event/content_block_delta(text_delta) → text deltas, as they arrive
//   assistant  → ignored: it repeats text already streamed (and carries synthetic error text)
//   result     → usage, total_cost_usd, stop_reason; is_error / error subtypes → a tool failure
// Flags checked against `claude --help` of 2.1.331.
import type { Delta, FinishReason, ModelRequest } from "../types.ts";
import type { Usage } from "../../protocol/events.ts";
import {
  type CliAdapter,
  type ToolFailure,
  type Translator,
  num,
  obj,
  optionValue,
  parseJsonLine,
  retryableStatus,
  str,
} from "./adapter.ts";
import { agentInstallHint, agentProgram } from "./tools.ts";

const STOP_REASONS: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool-calls",
  refusal: "content-filter",
};

// Text blocks of separate turns (e.g. around a tool call) would otherwise run together.
const BLOCK_SEPARATOR = "\n\n";

export const claudeAdapter: CliAdapter = {
  label: "claude",
  output: "lines",
  installHint: agentInstallHint("claude"),

  invocation(request: ModelRequest, env) {
    const args = [
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--include-partial-messages",
      "--no-session-persistence",
      // No MCP servers from the user's config: a stage gets exactly the tools it lists.
      "--strict-mcp-config",
      // Anything not pre-approved is denied instead of waiting for a prompt nobody can answer.
      "--permission-mode",
      "dontAsk",
    ];
    const model = request.model;
    if (model.model) args.push(optionValue("--model", model.model));
    if (request.system) args.push(optionValue("--system-prompt", request.system));
    // Only the listed tools exist (`--tools` takes bare names) and only they run unasked
    // (`--allowedTools` keeps patterns such as "Bash(git log *)").
    const allowed = model.allowedTools ?? [];
    if (allowed.length === 0) args.push("--tools", "");
    else {
      const names = [...new Set(allowed.map((tool) => tool.replace(/\(.*$/s, "").trim()))];
      args.push(optionValue("--tools", names.join(",")), optionValue("--allowedTools", allowed.join(",")));
    }
    return { program: agentProgram("claude", env), args, stdin: request.prompt };
  },

  translator(): Translator {
    let textBlocks = 0;
    let blockOpen = false;
    let failure: ToolFailure | undefined;
    let usage: Usage | undefined;
    let costUsd: number | undefined;
    let reason: FinishReason = "stop";

    return {
      push(line, lineNo) {
        const msg = parseJsonLine("claude", line, lineNo);
        // Subagents' streams carry a parent tool id; only the main conversation is the answer.
        if (msg.parent_tool_use_id != null) return [];
        if (msg.type === "stream_event") {
          const event = obj(msg.event);
          if (event?.type === "content_block_start") {
            blockOpen = obj(event.content_block)?.type === "text";
            return [];
          }
          if (event?.type !== "content_block_delta") return [];
          const delta = obj(event.delta);
          const text = delta?.type === "text_delta" ? str(delta.text) : undefined;
          if (!text) return [];
          let out = text;
          if (blockOpen) {
            blockOpen = false;
            if (textBlocks++ > 0) out = BLOCK_SEPARATOR + text;
          }
          return [{ type: "text", text: out }];
        }
        if (msg.type === "result") {
          const status = num(msg.api_error_status);
          if (msg.is_error === true || (typeof msg.subtype === "string" && msg.subtype !== "success")) {
            const errors = Array.isArray(msg.errors) ? msg.errors.filter((e) => typeof e === "string") : [];
            const message =
              str(msg.result) || errors.join("; ") || `run ended with ${str(msg.subtype) ?? "an error"}`;
            failure = { message: status ? `API ${status}: ${message}` : message, retryable: retryableStatus(status) };
            return [];
          }
          const u = obj(msg.usage);
          if (u) {
            usage = {
              inputTokens: num(u.input_tokens) ?? 0,
              outputTokens: num(u.output_tokens) ?? 0,
              cacheReadTokens: num(u.cache_read_input_tokens),
              cacheWriteTokens: num(u.cache_creation_input_tokens),
            };
          }
          costUsd = num(msg.total_cost_usd);
          reason = STOP_REASONS[str(msg.stop_reason) ?? ""] ?? "stop";
        }
        return [];
      },
      failure: () => failure,
      end(): Delta[] {
        const finish: Delta = { type: "finish", reason };
        if (usage) finish.usage = usage;
        if (costUsd !== undefined) finish.costUsd = costUsd;
        return [finish];
      },
    };
  },
};
