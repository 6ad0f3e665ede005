// `stagecast web`: starts the dashboard server and runs until SIGINT/SIGTERM, then stops cleanly
// (running executions are cancelled and stored, the database closed).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { startServer } from "../server/server.ts";

/** The dashboard's build, found relative to the code so the command works from any directory. */
export const WEB_DIST_DIR = resolve(import.meta.dir, "../../web/dist");

export interface WebArgs {
  port?: number;
  host?: string;
  dataDir: string;
  token?: string;
  allowOrigins?: string[];
  /** default: the process's working directory (its `pipelines/` folder is listed) */
  cwd?: string;
}

export async function runWeb(args: WebArgs): Promise<void> {
  const token = args.token ?? (process.env.STAGECAST_TOKEN || undefined);
  const webDir = existsSync(resolve(WEB_DIST_DIR, "index.html")) ? WEB_DIST_DIR : undefined;
  const server = await startServer({
    port: args.port ?? 3000,
    ...(args.host !== undefined ? { host: args.host } : {}),
    dataDir: args.dataDir,
    cwd: args.cwd ?? process.cwd(),
    ...(token ? { token } : {}),
    ...(args.allowOrigins ? { allowOrigins: args.allowOrigins } : {}),
    ...(webDir ? { webDir } : {}),
  });
  process.stdout.write(`stagecast dashboard: ${server.url}\n`);
  if (webDir) process.stdout.write(`run the built-in demo (local model, no API key): ${server.url}/pipelines/demo\n`);
  if (token) process.stdout.write(`a token is required: open ${server.url}/?token=<your token> or send Authorization: Bearer <token>\n`);
  if (!webDir) process.stdout.write(`(the dashboard is not built yet: ${server.url} links the API)\n`);

  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.stdout.write(`\n${signal}: stopping…\n`);
      void server.stop().then(done, (err: unknown) => {
        process.stderr.write(`stagecast: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        done();
      });
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}
