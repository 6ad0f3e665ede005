#!/usr/bin/env bun
// The `stagecast` command. Every failure a user can cause ends as one clear line on stderr and an
// exit code; a stack trace only with STAGECAST_DEBUG=1.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CLI_TOOLS, type CliTool } from "../protocol/pipeline.ts";
import { PipelineConfigError, StagecastError, errorMessage } from "../core/errors.ts";
import type { RunMode } from "../core/types.ts";
import { helpText, UsageError } from "./usage.ts";

const MODES: readonly RunMode[] = ["api", "cli", "local"];

function dataDirFrom(flag: string | undefined, cwd: string): string {
  return resolve(cwd, flag ?? process.env.STAGECAST_DATA_DIR ?? ".stagecast");
}

function parse(command: string, argv: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${errorMessage(err).replace(/\. To specify a positional.*$/s, "")} (stagecast ${command}; see \`stagecast help ${command}\`)`);
  }
}

function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`${command}: missing <${what}> (see \`stagecast help ${command}\`)`);
  if (positionals.length > 1) throw new UsageError(`${command}: expected one <${what}>, got ${positionals.length}: ${positionals.join(" ")}`);
  return positionals[0] as string;
}

async function main(argv: string[]): Promise<number> {
  const cwd = process.cwd();
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(helpText(rest[0]));
    return 0;
  }
  if (command === "--version" || command === "-v") {
    const pkg = await Bun.file(new URL("../../package.json", import.meta.url)).json();
    process.stdout.write(`stagecast ${pkg.version}\n`);
    return 0;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(helpText(command));
    return 0;
  }

  switch (command) {
    case "run": {
      const { values, positionals } = parse("run", rest, {
        input: { type: "string", short: "i" },
        "input-file": { type: "string", short: "f" },
        json: { type: "boolean", default: false },
        mode: { type: "string" },
        tool: { type: "string" },
        "data-dir": { type: "string" },
      });
      const mode = values.mode as string | undefined;
      const tool = values.tool as string | undefined;
      if (mode !== undefined && !MODES.includes(mode as RunMode)) throw new UsageError(`--mode must be one of ${MODES.join(", ")}; got "${mode}"`);
      if (tool !== undefined && !(CLI_TOOLS as readonly string[]).includes(tool)) throw new UsageError(`--tool must be one of ${CLI_TOOLS.join(", ")}; got "${tool}"`);
      if (tool !== undefined && mode !== undefined && mode !== "cli") throw new UsageError(`--tool picks an agent CLI, so it needs --mode cli (got --mode ${mode})`);
      const { runCommand } = await import("./run.ts");
      return runCommand({
        pipeline: onePositional("run", positionals, "pipeline"),
        ...(values.input !== undefined ? { input: values.input as string } : {}),
        ...(values["input-file"] !== undefined ? { inputFile: values["input-file"] as string } : {}),
        json: Boolean(values.json),
        overrides: { ...(mode ? { mode: mode as RunMode } : {}), ...(tool ? { tool: tool as CliTool } : {}) },
        dataDir: dataDirFrom(values["data-dir"] as string | undefined, cwd),
        cwd,
      });
    }
    case "list": {
      const { values } = parse("list", rest, { json: { type: "boolean", default: false } });
      const { listCommand } = await import("./pipelines-commands.ts");
      return listCommand({ cwd, json: Boolean(values.json) });
    }
    case "validate": {
      const { values, positionals } = parse("validate", rest, { json: { type: "boolean", default: false } });
      const { validateCommand } = await import("./pipelines-commands.ts");
      return validateCommand({ cwd, json: Boolean(values.json), pipeline: onePositional("validate", positionals, "pipeline") });
    }
    case "init": {
      const { positionals } = parse("init", rest, {});
      const name = onePositional("init", positionals, "name");
      const { initTemplate } = await import("../core/init-template.ts");
      const text = initTemplate(name);
      const dir = join(cwd, "pipelines");
      const file = join(dir, `${name}.yaml`);
      if (existsSync(file)) throw new UsageError(`${file} already exists; pick another name or edit that file`);
      await mkdir(dir, { recursive: true });
      await writeFile(file, text, { flag: "wx" });
      process.stdout.write(`created ${file}\nrun it:  stagecast run ${name} --input "…"\ncheck it: stagecast validate ${name}\n`);
      return 0;
    }
    case "web": {
      const { values } = parse("web", rest, {
        port: { type: "string", short: "p" },
        host: { type: "string" },
        "data-dir": { type: "string" },
        token: { type: "string" },
        "allow-origin": { type: "string", multiple: true },
      });
      let port: number | undefined;
      if (values.port !== undefined) {
        port = Number(values.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535; got "${values.port}"`);
      }
      const { runWeb } = await import("./web.ts");
      await runWeb({
        ...(port !== undefined ? { port } : {}),
        ...(values.host !== undefined ? { host: values.host as string } : {}),
        dataDir: dataDirFrom(values["data-dir"] as string | undefined, cwd),
        ...((values.token ?? process.env.STAGECAST_TOKEN) ? { token: (values.token ?? process.env.STAGECAST_TOKEN) as string } : {}),
        ...(values["allow-origin"] ? { allowOrigins: values["allow-origin"] as string[] } : {}),
      });
      return 0;
    }
    case "setup": {
      const { values } = parse("setup", rest, { "data-dir": { type: "string" }, force: { type: "boolean", default: false } });
      const { runSetup } = await import("./setup.ts");
      await runSetup({ dataDir: dataDirFrom(values["data-dir"] as string | undefined, cwd), force: Boolean(values.force) });
      return 0;
    }
    case "doctor": {
      const { values } = parse("doctor", rest, { json: { type: "boolean", default: false } });
      const { runDoctor } = await import("./doctor.ts");
      return runDoctor({ json: Boolean(values.json) });
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${helpText()}`);
  }
}

try {
  process.exitCode = await main(Bun.argv.slice(2));
  // A library handle (a native model, a socket) must not keep a finished command alive; this timer
  // is unref'd, so it only fires when something else still holds the event loop open.
  setTimeout(() => process.exit(), 3000).unref();
} catch (err) {
  if (process.env.STAGECAST_DEBUG) console.error(err);
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof PipelineConfigError || err instanceof StagecastError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`error: ${errorMessage(err)}\n(this is a bug in stagecast; run with STAGECAST_DEBUG=1 for details)\n`);
    process.exitCode = 1;
  }
}
