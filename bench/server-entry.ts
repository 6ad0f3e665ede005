// The stagecast server alone in its own process, so a benchmark can read its RSS and CPU from /proc.
// Usage: bun bench/server-entry.ts '<json ServerOptions subset>'; prints one JSON line {url, pid}.
// SIGTERM stops it cleanly (running executions cancelled and stored) and exits 0.
import { startServer } from "../src/server/server.ts";

const opts = JSON.parse(process.argv[2] ?? "{}") as {
  dataDir: string;
  cwd: string;
  maxConcurrent?: number;
  maxBufferedBytes?: number;
  /** the dashboard's built assets (web/dist), for the browser benchmarks */
  webDir?: string;
};
if (!opts.dataDir || !opts.cwd) {
  process.stderr.write("usage: server-entry.ts '{\"dataDir\":…,\"cwd\":…}'\n");
  process.exit(2);
}
const server = await startServer({ port: 0, ...opts });
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
