// Shared set-up for the server tests: a fake OpenAI-compatible model server, a temp working
// directory with pipelines that use it (through the real SDK), a real server on a free port, and a
// WebSocket client that records every message and lets a test wait for one.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WireEvent } from "../../src/protocol/events.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../src/server/server.ts";
import { type FakeBehaviour, type FakeModelServer, startFakeOpenAI } from "../helpers/fake-openai.ts";
import { firstLine, startRun } from "../helpers/server-client.ts";

export function pipelineYaml(id: string, fakeUrl: string, stageIds: string[], retries = 0): string {
  const model = `{ provider: openai-compatible, model: fake, baseURL: "${fakeUrl}" }`;
  return [
    `id: ${id}`,
    `name: Pipeline ${id}`,
    `defaults:`,
    `  model: ${model}`,
    `  retries: ${retries}`,
    `stages:`,
    ...stageIds.map((s) => `  - id: ${s}\n    prompt: "${s}: {{input}}"`),
    "",
  ].join("\n");
}

export interface Harness {
  fake: FakeModelServer;
  server: RunningServer;
  dir: string;
  cwd: string;
  dataDir: string;
  base: string;
  wsUrl: string;
  api(path: string, init?: RequestInit): Promise<Response>;
  run(pipelineId: string, input: string): Promise<string>;
  ws(): Promise<WsClient>;
  close(): Promise<void>;
}

export async function writePipelines(cwd: string, fakeUrl: string): Promise<void> {
  await mkdir(join(cwd, "pipelines"), { recursive: true });
  await writeFile(join(cwd, "pipelines", "one.yaml"), pipelineYaml("one", fakeUrl, ["write"]));
  await writeFile(join(cwd, "pipelines", "two.yaml"), pipelineYaml("two", fakeUrl, ["draft", "polish"]));
  await writeFile(join(cwd, "pipelines", "retry.yaml"), pipelineYaml("retry", fakeUrl, ["flaky"], 1));
  await writeFile(join(cwd, "pipelines", "broken.yaml"), "id: broken\nname: Broken\nstages: []\n");
}

export async function setup(opts: Partial<ServerOptions> = {}): Promise<Harness> {
  const fake = await startFakeOpenAI();
  const dir = await mkdtemp(join(tmpdir(), "stagecast-server-"));
  const cwd = join(dir, "cwd");
  const dataDir = join(dir, "data");
  await writePipelines(cwd, fake.url);
  const server = await startServer({ port: 0, dataDir, cwd, ...opts });
  const base = server.url;
  const clients: WsClient[] = [];
  const auth: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const h: Harness = {
    fake,
    server,
    dir,
    cwd,
    dataDir,
    base,
    wsUrl: `${base.replace("http", "ws")}/ws${opts.token ? `?token=${opts.token}` : ""}`,
    api: (path, init = {}) => fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } }),
    run: (pipelineId, input) => startRun(h.api, pipelineId, input),
    async ws() {
      const c = await WsClient.open(h.wsUrl);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.stop();
      await fake.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export type ServerMessage = (WireEvent & { type: WireEvent["type"] }) | { type: string; [k: string]: unknown };

export class WsClient {
  readonly messages: Record<string, unknown>[] = [];
  readonly socket: WebSocket;
  #waiters: { pred: (m: Record<string, unknown>) => boolean; from: number; resolve: (m: Record<string, unknown>) => void }[] = [];
  closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((r) => socket.addEventListener("close", () => r()));
    socket.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as Record<string, unknown>;
      this.messages.push(msg);
      const index = this.messages.length - 1;
      this.#waiters = this.#waiters.filter((w) => {
        if (index >= w.from && w.pred(msg)) {
          w.resolve(msg);
          return false;
        }
        return true;
      });
    });
  }

  static open(url: string, headers?: Record<string, string>): Promise<WsClient> {
    const socket = new WebSocket(url, headers ? ({ headers } as unknown as string[]) : undefined);
    return new Promise((resolve, reject) => {
      socket.addEventListener("open", () => resolve(new WsClient(socket)));
      socket.addEventListener("error", () => reject(new Error(`could not open ${url}`)));
    });
  }

  send(msg: unknown): void {
    this.socket.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** The first message at index ≥ `from` matching `pred` (already received or still to come). */
  waitFor(pred: (m: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> {
    for (let i = from; i < this.messages.length; i++) {
      const m = this.messages[i] as Record<string, unknown>;
      if (pred(m)) return Promise.resolve(m);
    }
    return new Promise((resolve) => this.#waiters.push({ pred, from, resolve }));
  }

  /** Sends `msg` and waits for the first reply after it matching `pred`. */
  request(msg: unknown, pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const from = this.messages.length;
    this.send(msg);
    return this.waitFor(pred, from);
  }

  events(executionId: string): WireEvent[] {
    return this.messages.filter((m) => typeof m.seq === "number" && m.executionId === executionId) as unknown as WireEvent[];
  }

  close(): void {
    this.socket.close();
  }
}

export const isFinal = (id: string) => (m: Record<string, unknown>) =>
  m.executionId === id && (m.type === "execution:completed" || m.type === "execution:cancelled" || m.type === "execution:failed");

/** The text of one stage from its events in seq order; throws on a gap or overlap in the offsets. */
export function stageText(events: WireEvent[], stageId: string): string {
  let text = "";
  for (const e of events) {
    if (e.type === "stage:retrying" && e.stageId === stageId) text = "";
    if (e.type !== "stage:output" || e.stageId !== stageId) continue;
    if (e.offset !== text.length) throw new Error(`stage ${stageId}: chunk seq ${e.seq} has offset ${e.offset}, expected ${text.length}`);
    text += e.output;
  }
  return text;
}

/** Throws unless the events' seqs are exactly from+1, from+2, … */
export function assertContiguous(events: WireEvent[], from = 0): void {
  events.forEach((e, i) => {
    if (e.seq !== from + i + 1) throw new Error(`event ${i} has seq ${e.seq}, expected ${from + i + 1}`);
  });
}

export { firstLine, lines } from "../helpers/server-client.ts";

const SERVER_ENTRY = join(import.meta.dir, "..", "helpers", "server-entry.ts");

export interface KillableServer {
  fake: FakeModelServer;
  cwd: string;
  dataDir: string;
  /** the server's own process, so a test can SIGKILL it */
  child: ReturnType<typeof Bun.spawn>;
  url: string;
}

/**
 * A real server in a child process on a temp data dir with the test pipelines, and its fake model.
 * `behaviour` is the fake's first answer; everything is undone by the functions pushed to `cleanup`.
 */
export async function startKillableServer(
  cleanup: (() => Promise<void>)[],
  behaviour: FakeBehaviour,
): Promise<KillableServer> {
  const fake = await startFakeOpenAI();
  cleanup.push(() => fake.stop());
  const dir = await mkdtemp(join(tmpdir(), "stagecast-killable-"));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const cwd = join(dir, "cwd");
  const dataDir = join(dir, "data");
  await writePipelines(cwd, fake.url);
  fake.enqueue(behaviour);
  const child = Bun.spawn(["bun", SERVER_ENTRY, dataDir, cwd], { stdout: "pipe", stderr: "inherit" });
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await child.exited;
  });
  const { url } = JSON.parse(await firstLine(child.stdout as ReadableStream<Uint8Array>)) as { url: string };
  return { fake, cwd, dataDir, child, url };
}

