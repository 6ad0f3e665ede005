// The real Claude Code CLI (the pinned dev dependency) as a stage model, against the project's
// fake Anthropic server: proves the argv, stdin, stream-json translation and cancel end to end.
// Nothing reaches the network: ANTHROPIC_BASE_URL points at the fake, telemetry and updates are off.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import path from "node:path";
import { CancelledError, CliToolError } from "../../src/core/errors.ts";
import { createCliProvider } from "../../src/providers/cli/index.ts";
import type { Delta, ModelRequest } from "../../src/providers/types.ts";
import { type FakeModelServer, createGate, startFakeAnthropic } from "../helpers/fake-anthropic.ts";
import { Sandbox, drain } from "../helpers/fake-cli/harness.ts";
import { claudeEnv } from "../helpers/fake-cli/claude-env.ts";

// Claude Code starts in about a second; on two shared cores give it room.
const SLOW = 60_000;

let fake: FakeModelServer;
let box: Sandbox;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.stop();
});
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => box.cleanup());

function sealedEnv(): Record<string, string> {
  return claudeEnv(box.mkdir("home"), fake.url);
}

function request(over: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: { provider: "cli", tool: "claude", model: "claude-haiku-4-5" },
    system: "You are stage two of a stagecast test pipeline.",
    prompt: "Summarize the fable:\nThe fox — ünïcode ✓ — and the crow.",
    cwd: box.mkdir("work"),
    ...over,
  };
}

/** The text of a user message, whether the API body holds it as a string or as blocks. */
function userTexts(body: unknown): string[] {
  const messages = (body as { messages?: { role: string; content: unknown }[] }).messages ?? [];
  return messages
    .filter((m) => m.role === "user")
    .flatMap((m) =>
      typeof m.content === "string"
        ? [m.content]
        : (m.content as { type: string; text?: string }[]).filter((b) => b.type === "text").map((b) => b.text ?? ""),
    );
}

describe("real Claude Code CLI against the fake Anthropic server", () => {
  test(
    "streams each chunk as it arrives; the text equals the fake's; our system prompt and prompt reach the API",
    async () => {
      const chunks = ["The fox", " flattered", " the crow — ünïcode ✓", "\nand won the cheese."];
      const gate = createGate();
      fake.enqueue({ kind: "stream", chunks, usage: { inputTokens: 21, outputTokens: 9 }, gate });
      const before = fake.modelRequests.length;
      const provider = createCliProvider({ env: sealedEnv() });
      const req = request();
      const it = provider.stream(req, { signal: new AbortController().signal })[Symbol.asyncIterator]();

      // Chunk k+1 is not even sent by the fake until delta k has come out of the real CLI.
      for (const chunk of chunks) {
        gate.release();
        expect((await it.next()).value).toEqual({ type: "text", text: chunk });
      }
      const rest: Delta[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
      expect(rest).toHaveLength(1);
      const finish = rest[0] as Extract<Delta, { type: "finish" }>;
      expect(finish.type).toBe("finish");
      expect(finish.reason).toBe("stop");
      expect(finish.usage).toEqual({ inputTokens: 21, outputTokens: 9, cacheReadTokens: 0, cacheWriteTokens: 0 });
      expect(typeof finish.costUsd).toBe("number");
      expect(finish.costUsd).toBeGreaterThan(0);

      expect(fake.modelRequests.length - before).toBe(1);
      const body = fake.modelRequests[before]!.body as { model: string; system: { text: string }[]; tools?: unknown[] };
      expect(body.model).toBe("claude-haiku-4-5");
      expect(body.system.map((b) => b.text)).toContain(req.system as string);
      expect(userTexts(body)).toContain(req.prompt);
      // No tools unless the stage lists them.
      expect(body.tools ?? []).toEqual([]);
      expect(fake.unknownRequests).toEqual([]);
    },
    SLOW,
  );

  test(
    "allowedTools is the whole tool set the model is offered",
    async () => {
      fake.enqueue({ kind: "stream", chunks: ["ok"] });
      const before = fake.modelRequests.length;
      const provider = createCliProvider({ env: sealedEnv() });
      const req = request({ model: { provider: "cli", tool: "claude", allowedTools: ["Read", "Grep"] } });
      const { items, error } = await drain(provider.stream(req, { signal: new AbortController().signal }));
      expect(error).toBeUndefined();
      expect(items[0]).toEqual({ type: "text", text: "ok" });
      const body = fake.modelRequests[before]!.body as { tools: { name: string }[] };
      // Claude Code always adds its internal placeholder for deferred (searchable) tools.
      const offered = body.tools.map((t) => t.name).filter((name) => name !== "DeferredToolPlaceholder");
      expect(offered.sort()).toEqual(["Grep", "Read"]);
    },
    SLOW,
  );

  test(
    "an API error the CLI reports becomes a CliToolError with its message and exit code",
    async () => {
      // Claude Code retries most 400s once; "prompt is too long" it reports at once.
      fake.enqueue({ kind: "http-error", status: 400, message: "prompt is too long: 999999 tokens > 200000 maximum" });
      const before = fake.modelRequests.length;
      const provider = createCliProvider({ env: sealedEnv() });
      const { items, error } = await drain(provider.stream(request(), { signal: new AbortController().signal }));
      expect(fake.modelRequests.length - before).toBe(1);
      expect(items).toEqual([]);
      expect(error).toBeInstanceOf(CliToolError);
      expect((error as CliToolError).exitCode).toBe(1);
      expect((error as CliToolError).retryable).toBe(false);
      expect((error as Error).message).toStartWith("claude reported an error (exit code 1): API 400: ");
      expect((error as Error).message).toContain("Prompt is too long");
    },
    SLOW,
  );

  test(
    "cancel mid-stream kills Claude Code at once: the fake sees the connection drop",
    async () => {
      const abortedBefore = fake.aborted;
      fake.enqueue({ kind: "hang", chunks: ["partial "] });
      const provider = createCliProvider({ env: sealedEnv() });
      const controller = new AbortController();
      const it = provider.stream(request(), { signal: controller.signal })[Symbol.asyncIterator]();
      expect((await it.next()).value).toEqual({ type: "text", text: "partial " });
      const reason = new CancelledError("user cancelled");
      controller.abort(reason);
      const settled = await it.next().then(
        () => "resolved",
        (err: unknown) => err,
      );
      expect(settled).toBe(reason);
      await fake.whenAborted(abortedBefore + 1);
      expect(fake.aborted).toBe(abortedBefore + 1);
    },
    SLOW,
  );
});
