// A stagecast server in its own process, for tests that must kill it (kill -9) and reopen its data.
// Usage: bun tests/helpers/server-entry.ts <dataDir> <cwd>; prints one JSON line {url} when listening.
import { startServer } from "../../src/server/server.ts";

const [dataDir, cwd] = process.argv.slice(2);
if (!dataDir || !cwd) {
  process.stderr.write("usage: server-entry.ts <dataDir> <cwd>\n");
  process.exit(2);
}
const server = await startServer({ port: 0, dataDir, cwd });
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
