// A sealed environment for running the REAL Claude Code CLI (the pinned dev dependency) against the
// fake Anthropic server: its own HOME and config dir, the fake as its API, nothing sent elsewhere.
import { mkdirSync } from "node:fs";
import path from "node:path";

export const CLAUDE_BIN = path.resolve(import.meta.dir, "../../../node_modules/.bin/claude");

/** `home` is created (with `.claude/` inside); `fakeUrl` is the fake Anthropic server's root URL. */
export function claudeEnv(home: string, fakeUrl: string): Record<string, string> {
  const configDir = path.join(home, ".claude");
  mkdirSync(configDir, { recursive: true });
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: fakeUrl,
    ANTHROPIC_API_KEY: "sk-test",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    STAGECAST_CLAUDE_BIN: CLAUDE_BIN,
  };
}
