"""The ``local`` provider: a GGUF model run in-process by xllamacpp (llama.cpp's server, compiled into a wheel).

xllamacpp's ``handle_chat_completions`` blocks and calls back once per token, so it runs in a worker thread and
hands each chunk to the event loop as it arrives. Its format (OpenAI ``chat.completion.chunk`` dicts) stays in
this module; the rest of the engine sees only deltas.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from executions.engine.errors import ProviderConfigError, ProviderProtocolError
from executions.engine.models_cache import local_model_path
from executions.engine.types import Delta, FinishDelta, FinishReason, ModelRequest, TextDelta, Usage

DEFAULT_MAX_TOKENS = 256
DEFAULT_CONTEXT = 2048
#: The generation thread's name (tests look for it).
THREAD_NAME = "stagecast-local-model"
#: How long a closing stream waits for the model thread to stop.
STOP_WAIT_S = 2.0
#: How often a stage waiting for the model checks whether it was cancelled meanwhile.
_LOCK_POLL_S = 0.05

# One generation at a time in the whole process: xllamacpp's server is not thread-safe, and two models at once
# would only fight over the same cores. A threading lock (not asyncio's) because Celery runs each task in its
# own event loop (asyncio.run) while the servers below outlive them all.
_generation_lock = threading.Lock()
# Loading costs ~0.5 s and ~200 MB, so each (file, context, threads) is loaded once per process and kept.
# Only touched with _generation_lock held. A failed load is not cached: the user may fix the file and retry.
_servers: dict[tuple[str, int, int], Any] = {}


def local_threads() -> int:
    """STAGECAST_LOCAL_THREADS, else 2 with a core to spare for everything else, else 1.

    llama.cpp's threads meet at a spinning barrier after every layer, so when another process takes one of
    their cores, each barrier waits a whole scheduler slice. On a 2-core machine with other work running,
    2 threads ran the local-model tests in 50-60 s and 1 thread in 11-13 s.
    """
    raw = os.environ.get("STAGECAST_LOCAL_THREADS")
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ProviderConfigError(f"local model: STAGECAST_LOCAL_THREADS must be a positive integer, not {raw!r}")
        return int(raw)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, cores - 1))


class LocalProvider:
    name = "local"

    def __init__(self, model: Mapping[str, Any]) -> None:
        self._model = dict(model)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[Delta, None]:
        # The request's settings win: they are the stage's, merged with the pipeline defaults.
        model = {**self._model, **request.model}
        path = local_model_path(model)
        body = _request_body(model, request)
        n_ctx = int(model.get("contextSize") or DEFAULT_CONTEXT)
        threads = local_threads()

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        stop = threading.Event()

        def put(item: _Item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:
                # The loop has closed: nobody is reading any more, so the model is told to stop instead.
                stop.set()

        thread = threading.Thread(
            target=_generate, args=(path, n_ctx, threads, body, put, stop), name=THREAD_NAME, daemon=True
        )
        thread.start()
        reason: FinishReason | None = None
        usage: Usage | None = None
        done = False
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Done):
                    done = True
                    break
                if isinstance(item, _Failed):
                    raise item.error
                if "error" in item:
                    raise _chunk_error(item["error"], path)
                for choice in item.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield TextDelta(text)
                    if choice.get("finish_reason"):
                        reason = _finish_reason(choice["finish_reason"])
                usage = _usage(item) or usage
            if reason is None:
                raise ProviderProtocolError("local", f"{path.name} stopped without a finish reason")
            yield FinishDelta(reason, usage=usage)
        finally:
            # Reached on normal end, on error, on task cancellation and on aclose(). The callback sees the flag at
            # the next token (or prompt batch) and stops; waiting for the thread's last word means the model is
            # free again once this generator has closed. Bounded, so a slow batch on a loaded machine cannot hold
            # up a cancel: the thread then finishes on its own and frees the lock.
            stop.set()
            if not done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_drain(queue), STOP_WAIT_S)


async def _drain(queue: asyncio.Queue[_Item]) -> None:
    while not isinstance(await queue.get(), _Done):
        pass


@dataclass(frozen=True, slots=True)
class _Done:
    pass


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_Item = dict[str, Any] | _Done | _Failed


def _generate(
    path: Path,
    n_ctx: int,
    threads: int,
    body: dict[str, Any],
    put: Callable[[_Item], None],
    stop: threading.Event,
) -> None:
    """Runs one generation in a worker thread, handing chunks to ``put``; never raises (errors go through ``put``)."""
    try:
        # Polled, not blocking: a stage cancelled while another one generates must give up its wait promptly.
        while not _generation_lock.acquire(timeout=_LOCK_POLL_S):
            if stop.is_set():
                return
        try:
            if stop.is_set():
                return
            server = _server(path, n_ctx, threads)
            if stop.is_set():
                return

            def on_chunk(chunk: dict[str, Any]) -> bool:
                # Called by llama.cpp once per token, on this thread: keep it cheap. True stops generation.
                if stop.is_set():
                    return True
                put(chunk)
                return False

            try:
                server.handle_chat_completions(body, on_chunk)
            except ValueError as err:
                # xllamacpp validates the request itself before generating (e.g. "Expected 'messages' ...").
                raise ProviderProtocolError("local", f"{path.name} rejected the request: {err}") from err
        finally:
            _generation_lock.release()
    except BaseException as err:  # handed to the event loop, which re-raises it in the stage
        put(_Failed(err))
    finally:
        put(_Done())


def _server(path: Path, n_ctx: int, threads: int) -> Any:
    """The loaded server for this model; call with ``_generation_lock`` held."""
    key = (str(path), n_ctx, threads)
    server = _servers.get(key)
    if server is not None:
        return server
    # Imported here: the web process never runs a local stage and need not load the 34 MB extension.
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx
    # The default (3) floods stderr, which carries stage and worker logs.
    params.verbosity = 0
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # With "return_progress", prompt processing calls back (and so meets the stop check) once per batch. 512 is
    # llama.cpp's own micro-batch, so the arithmetic is unchanged, and a cancel during a long prompt is seen
    # after one batch (~2 s here) rather than after the whole prompt (1,700 tokens took 7 s here).
    params.n_batch = 512
    # The server also listens on a random loopback port we never use; a key nobody knows keeps other local users
    # off it (only /health stays open).
    params.api_keys = [secrets.token_urlsafe(32)]
    params.ui = False
    try:
        server = xllamacpp.Server(params)
    except RuntimeError as err:
        raise ProviderConfigError(
            f"local model: xllamacpp could not load {path} ({err}); is it a GGUF model file that llama.cpp can "
            "read, and does the context size fit in memory?"
        ) from err
    _servers[key] = server
    return server


def _request_body(model: Mapping[str, Any], request: ModelRequest) -> dict[str, Any]:
    messages = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt})
    body: dict[str, Any] = {
        "messages": messages,
        "stream": True,
        # The usage chunk counts cached prompt tokens too; "timings" alone counts only the uncached ones.
        "stream_options": {"include_usage": True},
        "max_tokens": int(model.get("maxTokens") or DEFAULT_MAX_TOKENS),
        # A chunk per prompt batch gives the callback, and so a cancel, a say before the first token.
        "return_progress": True,
    }
    if model.get("temperature") is not None:
        body["temperature"] = float(model["temperature"])
    return body


def _finish_reason(raw: str) -> FinishReason:
    return "length" if raw == "length" else "stop" if raw == "stop" else "other"


def _usage(chunk: Mapping[str, Any]) -> Usage | None:
    usage = chunk.get("usage")
    if usage:
        return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    timings = chunk.get("timings")
    if timings:
        prompt = int(timings.get("prompt_n") or 0) + int(timings.get("cache_n") or 0)
        return Usage(prompt, int(timings.get("predicted_n") or 0))
    return None


def _chunk_error(error: Any, path: Path) -> Exception:
    """xllamacpp reports a failed request as a chunk ``{"error": {"code", "message", "type"}}``."""
    info = error if isinstance(error, Mapping) else {"message": str(error)}
    message = str(info.get("message") or info)
    if info.get("type") == "exceed_context_size_error":
        # No retry helps: the stage's input must shrink (or the context grow).
        return ProviderConfigError(f"local model: {message} ({path.name}); shorten the stage's input")
    return ProviderProtocolError("local", f"{path.name} failed: {message}")
