// A fake OpenAI-compatible model server in its own process, so its pacing timers are not delayed by
// the viewers in the benchmark process. Every model call streams the same answer.
// Usage: bun bench/fake-model-entry.ts '{"specFile": "<file>"}', the file holding
// {"chunks": ["a", "b"], "delayMs": 5}; prints {url, pid}.
import { readFileSync } from "node:fs";
import { startFakeOpenAI } from "../tests/helpers/fake-openai.ts";

const { specFile } = JSON.parse(process.argv[2] ?? "{}") as { specFile?: string };
if (!specFile) {
  process.stderr.write("usage: fake-model-entry.ts '{\"specFile\": …}'\n");
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specFile, "utf8")) as { chunks?: string[]; delayMs?: number };
const fake = await startFakeOpenAI({
  default: { kind: "stream", chunks: spec.chunks ?? ["Hello"], ...(spec.delayMs ? { delayMs: spec.delayMs } : {}) },
});
process.on("SIGTERM", () => {
  void fake.stop().then(() => process.exit(0));
});
// The fake records every request and chunk; a long benchmark must not grow it without bound.
setInterval(() => {
  fake.requests.length = 0;
  fake.modelRequests.length = 0;
  fake.sent.length = 0;
}, 1000).unref();
process.stdout.write(`${JSON.stringify({ url: fake.url, pid: process.pid })}\n`);
