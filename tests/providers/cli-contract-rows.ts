// The rows of the agent-CLI contract suite (cli-contract.test.ts): one per tool, with what its
// fixture must turn into. A new adapter is a new row here, not new tests.
import type { Delta, ModelRequest } from "../../src/providers/types.ts";

type Model = ModelRequest["model"];

export interface Row {
  tool: string;
  /** The stage model; `bin` is the fake's path, for rows that name a program directly. */
  model(bin: string): Model;
  /** Env var that points the provider at the fake, for the named tools. */
  binEnv?: string;
  fixture: string;
  /** Replay raw bytes in pieces of this size instead of lines (the `command` tool). */
  rawSplit?: number;
  /** [1-based line (or piece) of the fixture, the text delta it carries] */
  texts: [number, string][];
  finish: Delta;
  /** argv and stdin for a request with model "m-1", system "Be brief." and prompt "Say hi". */
  argv: string[];
  stdin: string;
  /** What the provider adds to the child's environment for that request. */
  childEnv: Record<string, string>;
  toolError?: { fixture: string; exit: number; texts: string[]; message: string };
  malformed: boolean;
  missing: { model: Model; message: string };
}

export const ROWS: Row[] = [
  {
    tool: "claude",
    model: () => ({ provider: "cli", tool: "claude" }),
    binEnv: "STAGECAST_CLAUDE_BIN",
    fixture: "claude-unicode.jsonl",
    texts: [
      [5, "Grüße"],
      [6, " — "],
      [7, "日本語\n"],
      [8, "🎉 done"],
    ],
    finish: {
      type: "finish",
      reason: "stop",
      usage: { inputTokens: 12, outputTokens: 7, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.000047,
    },
    argv: [
      "-p",
      "--output-format",
      "stream-json",
      "--verbose",
      "--include-partial-messages",
      "--no-session-persistence",
      "--strict-mcp-config",
      "--permission-mode",
      "dontAsk",
      "--model=m-1",
      "--system-prompt=Be brief.",
      "--tools",
      "",
    ],
    stdin: "Say hi",
    childEnv: {},
    toolError: {
      fixture: "claude-error-400.jsonl",
      exit: 1,
      texts: [],
      message:
        "claude reported an error (exit code 1): API 400: Prompt is too long · the request is ~999999 tokens " +
        "(limit 200000) but this conversation is only ~284 tokens — the rest is system prompt, tool definitions, " +
        "and attachment content. A single-exchange conversation cannot be compacted; reduce attached files/tools " +
        "or start with less context.; last stderr lines:\nwarn: one",
    },
    malformed: true,
    missing: {
      model: { provider: "cli", tool: "claude" },
      message:
        "claude is not installed or not on PATH; install Claude Code (npm install -g @anthropic-ai/claude-code) " +
        "or set STAGECAST_CLAUDE_BIN",
    },
  },
  {
    tool: "opencode",
    model: () => ({ provider: "cli", tool: "opencode" }),
    binEnv: "STAGECAST_OPENCODE_BIN",
    fixture: "opencode-hello.jsonl",
    texts: [
      [2, "Let me check the numbers."],
      [6, "\n\n6 × 7 = 42 — the answer."],
    ],
    finish: {
      type: "finish",
      reason: "stop",
      usage: { inputTokens: 2450, outputTokens: 40, cacheReadTokens: 1300, cacheWriteTokens: 50 },
      costUsd: 0.00031 + 0.00012,
    },
    argv: ["run", "--format", "json", "--model=m-1"],
    stdin: "Be brief.\n\nSay hi",
    // Every opencode tool denied: the stage lists none.
    childEnv: { OPENCODE_CONFIG_CONTENT: '{"permission":{"*":"deny"}}' },
    toolError: {
      fixture: "opencode-error.jsonl",
      exit: 1,
      texts: [],
      message: "opencode reported an error (exit code 1): Invalid API key; last stderr lines:\nwarn: one",
    },
    malformed: true,
    missing: {
      model: { provider: "cli", tool: "opencode" },
      message:
        "opencode is not installed or not on PATH; install opencode (npm install -g opencode-ai) or set STAGECAST_OPENCODE_BIN",
    },
  },
  {
    tool: "gemini",
    model: () => ({ provider: "cli", tool: "gemini" }),
    binEnv: "STAGECAST_GEMINI_BIN",
    fixture: "gemini-hello.jsonl",
    texts: [
      [3, "Hello"],
      [4, " from Gemini"],
      [5, " — ünïcode ✓\n"],
    ],
    finish: {
      type: "finish",
      reason: "stop",
      usage: { inputTokens: 50, outputTokens: 7, cacheReadTokens: 20 },
    },
    argv: ["-o", "stream-json", "--model=m-1"],
    stdin: "Be brief.\n\nSay hi",
    childEnv: {},
    toolError: {
      fixture: "gemini-error.jsonl",
      exit: 53,
      texts: ["Partial"],
      message:
        "gemini reported an error (exit code 53): MaxSessionTurnsError: Maximum session turns exceeded; " +
        "last stderr lines:\nwarn: one",
    },
    malformed: true,
    missing: {
      model: { provider: "cli", tool: "gemini" },
      message:
        "gemini is not installed or not on PATH; install Gemini CLI (npm install -g @google/gemini-cli) or set STAGECAST_GEMINI_BIN",
    },
  },
  {
    tool: "command",
    model: (bin) => ({ provider: "cli", tool: "command", command: [bin, "--x", "two words"] }),
    fixture: "command-ansi.txt",
    rawSplit: 29,
    // The split falls inside "✗": its first byte waits for the rest instead of becoming U+FFFD.
    texts: [
      [1, "\u001b[1;34mPlan\u001b[0m: ready\n\u001b[31m"],
      [2, "✗ no\u001b[0m\n"],
    ],
    finish: { type: "finish", reason: "stop" },
    argv: ["--x", "two words"],
    stdin: "Say hi",
    childEnv: { STAGECAST_SYSTEM_PROMPT: "Be brief.", STAGECAST_MODEL: "m-1" },
    malformed: false,
    missing: {
      model: { provider: "cli", tool: "command", command: ["stagecast-no-such-program"] },
      message:
        'command "stagecast-no-such-program" is not installed or not on PATH; check the program named in the stage\'s model.command',
    },
  },
];
