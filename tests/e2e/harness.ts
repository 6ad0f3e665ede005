// Shared set-up for the browser tests: a fake OpenAI-compatible model server, a temp working
// directory whose pipelines/ use it (plus one `command` pipeline printing ANSI colours), the real
// server serving the built dashboard, a TCP proxy in front of it (so a test can cut the browser's
// connections for real), and one headless Chromium (system /usr/bin/chromium via playwright-core,
// fresh profile). One of each per test file; `close()` removes everything.
import { afterAll, beforeAll, setDefaultTimeout } from "bun:test";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../helpers/chromium.ts";
import { startRun } from "../helpers/server-client.ts";
import { type RunningServer, startServer } from "../../src/server/server.ts";
import { DEFAULT_BEHAVIOUR, type FakeBehaviour, type FakeModelServer, type RecordedRequest, type SentChunk, startFakeOpenAI } from "../helpers/fake-openai.ts";
import { type TcpProxy, startTcpProxy } from "./tcp-proxy.ts";
import { ensureWebBuilt } from "./web-build.ts";

export { createGate, type FakeBehaviour, type Gate } from "../helpers/fake-openai.ts";

/**
 * Where the suite's screenshots go: the README's docs/screenshots/ when STAGECAST_UPDATE_SCREENSHOTS=1,
 * otherwise a temp folder (still taken on every run, without leaving the checkout modified).
 */
export const SCREENSHOTS = process.env.STAGECAST_UPDATE_SCREENSHOTS === "1"
  ? join(import.meta.dir, "../../docs/screenshots")
  : join(tmpdir(), "stagecast-e2e-screenshots");

/** What `command-ansi` prints, byte for byte (stdout of the fake executable). */
export const ANSI_TEXT =
  "\x1b[1;34mPlan\x1b[0m: ready\n" +
  "\x1b[32m✔ tests passed\x1b[0m (12)\n" +
  "\x1b[33mwarning:\x1b[0m 2 files unformatted\n" +
  "\x1b[31m✘ lint failed\x1b[0m in \x1b[4msrc/app.ts\x1b[0m\n" +
  "plain line, no colour\n";

// Test hooks beyond those ARCHITECTURE.md lists (additive): the "jump to latest" control of an output
// panel that stopped following, and the banner shown while the connection to the server is down.
export const JUMP_TO_LATEST = '[data-testid="jump-to-latest"]';
export const CONNECTION_BANNER = '[data-testid="connection-banner"]';

function yamlModel(fakeUrl: string): string {
  return `{ provider: openai-compatible, model: fake, baseURL: "${fakeUrl}" }`;
}

async function writePipelines(cwd: string, fakeUrl: string, ansiScript: string): Promise<void> {
  const dir = join(cwd, "pipelines");
  await mkdir(dir, { recursive: true });
  const api = (id: string, stages: string[], extra = "") =>
    [
      `id: ${id}`,
      `name: Pipeline ${id}`,
      `defaults:`,
      `  model: ${yamlModel(fakeUrl)}`,
      `  retries: 0`,
      `stages:`,
      ...stages.map((s) => `  - id: ${s}\n    prompt: "${s}: {{input}}"${extra}`),
      "",
    ].join("\n");
  await writeFile(join(dir, "one.yaml"), api("one", ["write"]));
  await writeFile(join(dir, "two.yaml"), api("two", ["draft", "polish"]));
  await writeFile(join(dir, "md.yaml"), api("md", ["render"], "\n    output: { format: markdown }"));
  await writeFile(
    join(dir, "command-ansi.yaml"),
    [
      "id: command-ansi",
      "name: Pipeline command-ansi",
      "stages:",
      "  - id: build",
      "    prompt: \"{{input}}\"",
      `    model: { provider: cli, tool: command, command: ["${ansiScript}"] }`,
      "",
    ].join("\n"),
  );
}

export interface E2E {
  fake: FakeModelServer;
  server: RunningServer;
  proxy: TcpProxy;
  context: BrowserContext;
  dir: string;
  /** the server's own URL */
  base: string;
  /** the same server through the TCP proxy */
  proxyBase: string;
  /**
   * What the fake answers to the model call whose user prompt is exactly `prompt` (every stage's
   * prompt here is "<stageId>: <input>"). Keyed by prompt rather than queued, so a test that fails
   * half-way leaves nothing behind for the next one.
   */
  script(prompt: string, behaviour: FakeBehaviour): void;
  /** The model call made with this user prompt, if any. */
  requestFor(prompt: string): RecordedRequest | undefined;
  /** The chunks the fake sent for the call with this prompt, with their send times. */
  sentFor(prompt: string): SentChunk[];
  /** POST /api/pipelines/:id/run; returns the execution id */
  run(pipelineId: string, input: string): Promise<string>;
  /** resolves with the execution's final status, watching the WebSocket (no polling) */
  finished(executionId: string): Promise<string>;
  newPage(opts?: { dark?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

/**
 * One browser, server and fake model for the test file that calls this: registers its hooks and
 * hands the harness to `ready` once it is up.
 */
export function useE2E(ready: (e: E2E) => void): void {
  // Bun's default 5 s is less than one streamed run in a browser on two shared cores; a timeout also
  // makes Bun kill the browser as a dangling process, which fails every later test in the file.
  setDefaultTimeout(60_000);
  let e: E2E | undefined;
  beforeAll(async () => {
    e = await setupE2E();
    await mkdir(SCREENSHOTS, { recursive: true });
    ready(e);
  }, 240_000);
  afterAll(async () => {
    await e?.close();
  });
}

export async function setupE2E(): Promise<E2E> {
  const webDir = await ensureWebBuilt();
  // Undone in reverse order by close(), or at once if set-up fails half-way: nothing outlives the file.
  const undo: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch((err) => console.error(`e2e clean-up: ${err}`));
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), "stagecast-e2e-"));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    const cwd = join(dir, "cwd");
    // A tiny stand-in for a command-line tool: ignores stdin, prints coloured text, exits 0.
    const ansiScript = join(dir, "fake-ansi-tool.sh");
    const ansiFile = join(dir, "fake-ansi-output.txt");
    await writeFile(ansiFile, ANSI_TEXT);
    await writeFile(ansiScript, `#!/bin/sh\ncat >/dev/null\nexec cat '${ansiFile}'\n`);
    await chmod(ansiScript, 0o755);
    const fake = await startFakeOpenAI();
    undo.push(() => fake.stop());
    const scripted = new Map<string, FakeBehaviour>();
    fake.setDefault((req) => scripted.get(userPrompt(req)) ?? DEFAULT_BEHAVIOUR);
    await writePipelines(cwd, fake.url, ansiScript);
    const server = await startServer({ port: 0, host: "127.0.0.1", dataDir: join(dir, "data"), cwd, webDir });
    undo.push(() => server.stop());
    const proxy = await startTcpProxy(server.port);
    undo.push(() => proxy.stop());
    const context = await launchChromium(join(dir, "chromium-profile"), { width: 1280, height: 900 });
    undo.push(() => context.close());
    return harness({ dir, fake, server, proxy, context, scripted, close });
  } catch (err) {
    await close();
    throw err;
  }
}

function harness(parts: {
  dir: string;
  fake: FakeModelServer;
  server: RunningServer;
  proxy: TcpProxy;
  context: BrowserContext;
  scripted: Map<string, FakeBehaviour>;
  close: () => Promise<void>;
}): E2E {
  const { dir, fake, server, proxy, context, scripted } = parts;
  const e: E2E = {
    fake,
    server,
    proxy,
    context,
    dir,
    base: server.url,
    proxyBase: `http://127.0.0.1:${proxy.port}`,
    script(prompt, behaviour) {
      scripted.set(prompt, behaviour);
    },
    requestFor(prompt) {
      return fake.modelRequests.find((r) => userPrompt(r) === prompt);
    },
    sentFor(prompt) {
      const index = fake.modelRequests.findIndex((r) => userPrompt(r) === prompt);
      return fake.sent.filter((c) => c.request === index);
    },
    run: (pipelineId, input) => startRun((path, init) => fetch(`${server.url}${path}`, init), pipelineId, input),
    finished(executionId) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${server.url.replace("http", "ws")}/ws`);
        ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "subscribe", executionId })));
        ws.addEventListener("error", () => reject(new Error(`ws for ${executionId} failed`)));
        ws.addEventListener("message", (ev) => {
          const m = JSON.parse(String(ev.data)) as { type: string; result?: { status: string } };
          const status =
            m.type === "execution:completed" ? m.result?.status : m.type === "execution:cancelled" ? "cancelled" : m.type === "execution:failed" ? "failed" : undefined;
          if (status) {
            ws.close();
            resolve(status);
          }
        });
      });
    },
    async newPage(opts = {}) {
      const page = await context.newPage();
      if (opts.dark) await page.emulateMedia({ colorScheme: "dark" });
      page.on("pageerror", (err) => console.error(`[page error] ${err.message}`));
      return page;
    },
    close: parts.close,
  };
  return e;
}

/** The user message of a Chat Completions request (the stage's rendered prompt). */
export function userPrompt(req: RecordedRequest): string {
  const body = req.body as { messages?: { role: string; content: unknown }[] } | undefined;
  const user = body?.messages?.filter((m) => m.role === "user").at(-1);
  return typeof user?.content === "string" ? user.content : JSON.stringify(user?.content ?? null);
}
