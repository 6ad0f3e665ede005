// The `local` provider: a GGUF model run in-process with node-llama-cpp.
// Llama and each model load once per process; every call gets its own context, disposed after.
import { availableParallelism } from "node:os";
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaModel,
} from "node-llama-cpp";
import { AsyncQueue } from "../../core/async-queue.ts";
import { errorMessage, ProviderConfigError, ProviderProtocolError } from "../../core/errors.ts";
import type { Delta, FinishReason, ModelRequest, Provider } from "../types.ts";
import { abortable, Mutex } from "./mutex.ts";
import { resolveLocalModelPath } from "./model-path.ts";

/** The local model's own default; the API providers' DEFAULT_MAX_TOKENS (api/config.ts) is another number. */
const LOCAL_DEFAULT_MAX_TOKENS = 512;
/** Room for the end-of-turn tokens the chat template appends after the answer. */
const CONTEXT_SLACK = 16;
const MIN_CONTEXT = 512;

interface LoadedModel {
  model: LlamaModel;
  /** Resolved once so the token count and the session render the prompt identically. */
  wrapper: ChatWrapper;
  /** One generation at a time: CPU-bound, two at once just thrash the cores. */
  lock: Mutex;
}

let llamaPromise: Promise<Llama> | undefined;
const models = new Map<string, Promise<LoadedModel>>();

function loadLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: false,
    // Never compile or download at run time: only the shipped prebuilt binary is acceptable.
    build: "never",
    skipDownload: true,
    progressLogs: false,
    // Its default (4 here) oversubscribes a 2-core machine, which measured ~100× slower.
    maxThreads: availableParallelism(),
    // Keep stderr for stage text; llama.cpp is chatty below `error`.
    logLevel: LlamaLogLevel.error,
  }).catch((err: unknown) => {
    llamaPromise = undefined;
    throw new ProviderConfigError(
      `local model: node-llama-cpp could not start (${errorMessage(err)}); the prebuilt binary ` +
        `package for this platform (e.g. @node-llama-cpp/linux-x64) must be installed`,
    );
  });
  return llamaPromise;
}

function loadModel(path: string): Promise<LoadedModel> {
  let loaded = models.get(path);
  if (!loaded) {
    loaded = (async () => {
      const llama = await loadLlama();
      let model: LlamaModel;
      try {
        model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
      } catch (err) {
        throw new ProviderConfigError(`local model: could not load ${path}: ${errorMessage(err)}`);
      }
      return { model, wrapper: resolveChatWrapper(model), lock: new Mutex() };
    })();
    // A failed load is not cached: the user may fix the file and try again in the same process.
    loaded.catch(() => models.delete(path));
    models.set(path, loaded);
  }
  return loaded;
}

/** The loaded model for a GGUF path (shared with the provider's cache); tests and benches use its tokenizer. */
export async function loadLocalModel(path: string): Promise<LlamaModel> {
  return (await loadModel(path)).model;
}

function chatHistory(request: ModelRequest): ChatHistoryItem[] {
  // No system message unless the stage sets one (node-llama-cpp would inject its own default).
  return request.system ? [{ type: "system", text: request.system }] : [];
}

/** Tokens of the prompt exactly as the chat template renders it (system + user + assistant header). */
function countPromptTokens(loaded: LoadedModel, history: ChatHistoryItem[], prompt: string): number {
  const { contextText } = loaded.wrapper.generateContextState({
    chatHistory: [...history, { type: "user", text: prompt }, { type: "model", response: [] }],
  });
  return contextText.tokenize(loaded.model.tokenizer).length;
}

export function createLocalProvider(): Provider {
  return {
    id: "local",
    stream: (request, { signal }) => streamLocal(request, signal),
  };
}

async function* streamLocal(request: ModelRequest, signal: AbortSignal): AsyncGenerator<Delta> {
  signal.throwIfAborted();
  const path = resolveLocalModelPath(request.model);
  const loaded = await abortable(loadModel(path), signal);
  const maxTokens = request.model.maxTokens ?? LOCAL_DEFAULT_MAX_TOKENS;
  const history = chatHistory(request);
  const inputTokens = countPromptTokens(loaded, history, request.prompt);
  const trainContext = loaded.model.trainContextSize;
  if (inputTokens > trainContext - CONTEXT_SLACK) {
    throw new ProviderConfigError(
      `local model: the prompt is ${inputTokens} tokens but ${path} holds at most ${trainContext - CONTEXT_SLACK}; shorten the input`,
    );
  }
  // Sized to the call: a context's set-up cost grows with its size (≈90 ms at 512, ≈190 ms at 2048 here).
  const contextSize = Math.min(trainContext, Math.max(MIN_CONTEXT, inputTokens + maxTokens + CONTEXT_SLACK));

  // Our own controller also stops generation when the consumer stops iterating early.
  const stop = new AbortController();
  const forward = () => stop.abort(signal.reason);
  signal.addEventListener("abort", forward, { once: true });
  const queue = new AsyncQueue<Delta>();
  const done = generate(loaded, request, { history, inputTokens, maxTokens, contextSize }, stop.signal, queue, signal);
  try {
    for await (const delta of queue) {
      signal.throwIfAborted();
      yield delta;
    }
  } finally {
    signal.removeEventListener("abort", forward);
    if (!stop.signal.aborted) stop.abort(new Error("local model: consumer stopped reading"));
    // Wait for the context to be disposed and the model unlocked before the caller moves on.
    await done;
  }
}

interface GenerateParams {
  history: ChatHistoryItem[];
  inputTokens: number;
  maxTokens: number;
  contextSize: number;
}

/** Runs one generation, pushing deltas into `queue`; never rejects (errors close the queue). */
async function generate(
  loaded: LoadedModel,
  request: ModelRequest,
  params: GenerateParams,
  stop: AbortSignal,
  queue: AsyncQueue<Delta>,
  callerSignal: AbortSignal,
): Promise<void> {
  let release: (() => void) | undefined;
  let context: Awaited<ReturnType<LlamaModel["createContext"]>> | undefined;
  try {
    release = await loaded.lock.acquire(stop);
    context = await loaded.model.createContext({ contextSize: params.contextSize, threads: availableParallelism() });
    stop.throwIfAborted();
    const session = new LlamaChatSession({
      contextSequence: context.getSequence(),
      chatWrapper: loaded.wrapper,
      autoDisposeSequence: true,
    });
    session.setChatHistory(params.history);
    const result = await session.promptWithMeta(request.prompt, {
      maxTokens: params.maxTokens,
      ...(request.model.temperature === undefined ? {} : { temperature: request.model.temperature }),
      signal: stop,
      onTextChunk: (text) => {
        if (text !== "") queue.push({ type: "text", text });
      },
    });
    const reason: FinishReason = result.stopReason === "maxTokens" ? "length" : "stop";
    // Tokenised once at the end, not per chunk.
    const outputTokens = loaded.model.tokenize(result.responseText).length;
    queue.push({ type: "finish", reason, usage: { inputTokens: params.inputTokens, outputTokens } });
    queue.close();
  } catch (err) {
    if (callerSignal.aborted) queue.close(callerSignal.reason);
    else if (stop.aborted) queue.close(stop.reason);
    else if (err instanceof ProviderConfigError) queue.close(err);
    else queue.close(new ProviderProtocolError("local", `generation failed: ${errorMessage(err)}`, err));
  } finally {
    try {
      await context?.dispose();
    } catch {
      // A disposal failure must not mask the outcome already delivered to the caller.
    }
    release?.();
  }
}
