// The agent CLIs stagecast knows by name, described once: the adapters find and name them from
// here, and `doctor` probes exactly these.

export const AGENT_TOOLS = {
  claude: { product: "Claude Code", binEnv: "STAGECAST_CLAUDE_BIN", install: "npm install -g @anthropic-ai/claude-code" },
  opencode: { product: "opencode", binEnv: "STAGECAST_OPENCODE_BIN", install: "npm install -g opencode-ai" },
  gemini: { product: "Gemini CLI", binEnv: "STAGECAST_GEMINI_BIN", install: "npm install -g @google/gemini-cli" },
} as const;

export type AgentTool = keyof typeof AGENT_TOOLS;

/** The program to run: the `STAGECAST_*_BIN` override when set, else the tool's name on PATH. */
export function agentProgram(tool: AgentTool, env: Record<string, string | undefined>): string {
  return env[AGENT_TOOLS[tool].binEnv] || tool;
}

/** What a missing tool's error suggests. */
export function agentInstallHint(tool: AgentTool): string {
  const { product, install, binEnv } = AGENT_TOOLS[tool];
  return `install ${product} (${install}) or set ${binEnv}`;
}
