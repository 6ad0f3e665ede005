"""The local provider against the real demo model: tokens stream as they are made, and a cancel stops the model.

The ``localmodel`` tests never fetch: CI's set-up runs ``manage.py fetchmodel``, and a missing model is a failure.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from executions.engine.errors import ProviderConfigError
from executions.engine.models_cache import local_model_path
from executions.engine.providers.local import THREAD_NAME, LocalProvider, local_threads
from executions.engine.types import Delta, FinishDelta, ModelRequest, TextDelta

# Greedy, so every run makes the same tokens; a list long enough to outlast max_tokens.
COUNTING = ModelRequest(
    model={"provider": "local", "maxTokens": 40, "temperature": 0},
    prompt="Count from 1 to 30, separated by commas.",
)
STORY = ModelRequest(
    model={"provider": "local", "maxTokens": 200, "temperature": 0},
    prompt="Tell a long story about a dragon who learns to bake bread.",
)


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        return local_model_path({})
    except ProviderConfigError as err:
        pytest.fail(f"the local-model tests need the demo model; CI's set-up fetches it. {err}")


def model_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def assert_model_thread_ends() -> None:
    for thread in model_threads():
        thread.join(timeout=1.0)
    assert model_threads() == []


@pytest.mark.localmodel
async def test_text_streams_as_the_model_makes_it(model_path: Path) -> None:
    provider = LocalProvider({"provider": "local"})
    arrivals: list[tuple[float, Delta]] = []

    async for delta in provider.stream(COUNTING):
        arrivals.append((time.perf_counter(), delta))

    texts = [(at, d) for at, d in arrivals if isinstance(d, TextDelta)]
    finished_at, finish = arrivals[-1]
    assert isinstance(finish, FinishDelta) and finish.usage is not None
    assert finish.reason == "length"
    assert finish.usage.input_tokens > 0
    # One delta per generated token, and they came one by one: the first well before the last token was made.
    assert finish.usage.output_tokens == 40
    assert len(texts) >= 10
    # Buffered to the end, all 40 would land within microseconds of each other and of the finish; streamed, each
    # waits for its token (~10 ms here; even 500 tok/s leaves 2 ms).
    first_at = texts[0][0]
    gaps = [b[0] - a[0] for a, b in zip(texts, texts[1:], strict=False)]
    assert finished_at - first_at > 0.03, f"the first delta came {finished_at - first_at:.4f} s before the finish"
    assert sum(gap > 0.001 for gap in gaps) >= len(gaps) // 2, f"the deltas came in bursts: {gaps}"
    assert "".join(d.text for _, d in texts).startswith("1")
    assert_model_thread_ends()


@pytest.mark.localmodel
async def test_cancelling_the_stage_stops_the_model(model_path: Path) -> None:
    provider = LocalProvider({"provider": "local"})
    three = asyncio.Event()
    received: list[TextDelta] = []

    async def consume() -> None:
        async for delta in provider.stream(STORY):
            assert isinstance(delta, TextDelta)
            received.append(delta)
            if len(received) == 3:
                three.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(three.wait(), timeout=60)
    cancelled_at = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # Within one token. A token takes ~10 ms here, but up to ~1 s when other jobs crowd the cores.
    assert time.perf_counter() - cancelled_at < 1.5
    assert len(received) == 3
    assert_model_thread_ends()
    # The model is free again at once: the next generation runs to its end.
    deltas = [d async for d in provider.stream(COUNTING)]
    assert isinstance(deltas[-1], FinishDelta) and deltas[-1].reason == "length"


@pytest.mark.localmodel
async def test_closing_the_stream_early_stops_the_model(model_path: Path) -> None:
    stream = LocalProvider({"provider": "local"}).stream(STORY)
    first = [await anext(stream) for _ in range(3)]

    closing_at = time.perf_counter()
    await stream.aclose()

    assert time.perf_counter() - closing_at < 1.5
    assert all(isinstance(d, TextDelta) for d in first)
    assert_model_thread_ends()


@pytest.mark.localmodel
async def test_a_second_stage_waits_for_the_first(model_path: Path) -> None:
    events: list[tuple[str, str]] = []

    async def stage(name: str, context_size: int) -> None:
        # Different context sizes load different servers, which xllamacpp alone would run side by side.
        request = ModelRequest(model={**COUNTING.model, "contextSize": context_size}, prompt=COUNTING.prompt)
        async for delta in LocalProvider({"provider": "local"}).stream(request):
            events.append((name, "finish" if isinstance(delta, FinishDelta) else "text"))

    await asyncio.gather(stage("a", 2048), stage("b", 1024))

    # One generation at a time in the process: all of one stage's deltas, then all of the other's.
    first = events[0][0]
    switch = next(i for i, (name, _) in enumerate(events) if name != first)
    assert events[switch - 1] == (first, "finish")
    assert all(name != first for name, _ in events[switch:])
    assert events[-1][1] == "finish"


@pytest.mark.localmodel
async def test_a_prompt_longer_than_the_context_is_a_config_error(model_path: Path) -> None:
    request = ModelRequest(model={"provider": "local", "contextSize": 256}, prompt="word " * 400)

    with pytest.raises(ProviderConfigError, match=r"exceeds the available context size \(256 tokens\)"):
        async for _ in LocalProvider({"provider": "local"}).stream(request):
            pass


async def test_a_file_llama_cpp_cannot_load_is_a_config_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x07" * 4096)  # the right magic, then nonsense
    provider = LocalProvider({"provider": "local", "path": str(broken)})

    with pytest.raises(ProviderConfigError, match=f"xllamacpp could not load {broken}"):
        async for _ in provider.stream(ModelRequest(model={"provider": "local", "path": str(broken)}, prompt="hi")):
            pass
    assert_model_thread_ends()


def test_threads_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGECAST_LOCAL_THREADS", "3")
    assert local_threads() == 3

    monkeypatch.setenv("STAGECAST_LOCAL_THREADS", "two")
    with pytest.raises(ProviderConfigError, match="STAGECAST_LOCAL_THREADS must be a positive integer, not 'two'"):
        local_threads()
