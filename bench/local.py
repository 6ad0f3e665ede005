"""Local model: the demo GGUF (SmolLM2-135M-Instruct, fetched by ``manage.py fetchmodel``) through the
project's own ``LocalProvider``, in this process, as a stage sees it.

Figures: load time (the first call, which loads the model), time to first token (prompt processing
included: from the call to the first text delta) and decode rate (tokens after the first over the time
after the first), medians over distinct prompts, so llama.cpp's prompt cache does not flatter them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from executions.engine.errors import ProviderConfigError
from executions.engine.models_cache import local_model_path
from executions.engine.providers.local import LocalProvider, local_threads
from executions.engine.types import FinishDelta, ModelRequest, TextDelta

from .common import median, percentile, run_alone

NAME = "local"
TITLE = "Local model (demo GGUF, in process)"
MAX_TOKENS = 96
PROMPTS = [
    "Why is the sea salty?",
    "Explain what a hash table is in two sentences.",
    "Write a haiku about autumn rain.",
    "What is the difference between weather and climate?",
    "Give three tips for writing clear emails.",
    "How does a bicycle stay upright?",
    "Summarize the water cycle.",
    "What is a prime number? Give an example.",
    "Name three uses of copper.",
    "Why do cats purr?",
]


async def generate(provider: LocalProvider, prompt: str) -> dict[str, float]:
    request = ModelRequest(model={"provider": "local", "maxTokens": MAX_TOKENS, "temperature": 0.2}, prompt=prompt)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    first = last = None
    deltas = 0
    tokens = 0
    async for delta in provider.stream(request):
        if isinstance(delta, TextDelta):
            last = time.perf_counter()
            first = first or last
            deltas += 1
        elif isinstance(delta, FinishDelta) and delta.usage:
            tokens = delta.usage.output_tokens
    if first is None or last is None:
        raise RuntimeError(f"no text for {prompt!r}")
    cpu = time.process_time() - cpu0
    tokens = tokens or deltas
    return {
        # Robust to other work on the machine: what the generation cost, whatever the wait for a core.
        "tok_per_cpu_s": tokens / cpu if cpu > 0 else float("nan"),
        "ttft_ms": (first - t0) * 1000,
        "tokens": tokens,
        "tok_s": (tokens - 1) / (last - first) if last > first else float("nan"),
        "total_ms": (last - t0) * 1000,
    }


async def run(*, quick: bool, log: Callable[[str], None], browser: bool = True) -> dict[str, Any]:
    try:
        path = local_model_path({"provider": "local"})
    except ProviderConfigError as err:
        return {"skipped": str(err)}
    provider = LocalProvider({"provider": "local"})
    t0 = time.perf_counter()
    await generate(provider, "Say hello.")  # loads the model (kept for the process, as in a worker)
    load_ms = (time.perf_counter() - t0) * 1000
    runs = []
    for prompt in PROMPTS[: 3 if quick else 10]:
        runs.append(await generate(provider, prompt))
        log(f"  {prompt[:40]!r}: TTFT {runs[-1]['ttft_ms']:.0f} ms, {runs[-1]['tok_s']:.1f} tokens/s")
    ttfts = [r["ttft_ms"] for r in runs]
    rates = [r["tok_s"] for r in runs]
    return {
        "skipped": None,
        "model": path.name,
        "threads": local_threads(),
        "load_and_first_ms": load_ms,
        "runs": runs,
        "ttft_median_ms": median(ttfts),
        "ttft_p90_ms": percentile(ttfts, 90),
        "tok_s_median": median(rates),
        "tok_s_min": min(rates),
        "tok_s_max": max(rates),
        "tok_per_cpu_s_median": median([r["tok_per_cpu_s"] for r in runs]),
    }


def versus(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    if result.get("skipped"):
        return []
    return [
        (
            "local model: time to first token, decode (medians)",
            f"{result['ttft_median_ms']:.0f} ms, {result['tok_s_median']:.1f} tokens/s ({result['threads']} thread)",
            "72 ms, 78.5 tokens/s",
        )
    ]


def summary(result: dict[str, Any] | None) -> dict[str, str]:
    if result is None or result.get("skipped"):
        return {"local_tok_s": "na"}
    return {"local_tok_s": f"{result['tok_s_median']:.1f}"}


def markdown(r: dict[str, Any]) -> list[str]:
    if r.get("skipped"):
        return [f"Not measured: {r['skipped']}."]
    return [
        f"{r['model']}, {len(r['runs'])} prompts of up to {MAX_TOKENS} tokens, {r['threads']} thread(s) "
        f"(`STAGECAST_LOCAL_THREADS`, default: all cores but one, at most 2): load + first answer "
        f"{r['load_and_first_ms']:.0f} ms; time to first token median **{r['ttft_median_ms']:.0f} ms** "
        f"(p90 {r['ttft_p90_ms']:.0f} ms); decode median **{r['tok_s_median']:.1f} tokens/s** "
        f"(min {r['tok_s_min']:.1f}, max {r['tok_s_max']:.1f}); {r['tok_per_cpu_s_median']:.1f} tokens per CPU-second "
        "of this process (prompt included: the figure other work on the machine does not move).",
        "",
        "Per prompt (TTFT ms / tokens / tokens/s): "
        + ", ".join(f"{x['ttft_ms']:.0f} / {x['tokens']} / {x['tok_s']:.1f}" for x in r["runs"])
        + ".",
    ]


if __name__ == "__main__":
    run_alone(NAME)
