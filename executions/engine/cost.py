"""Cost estimates from the price table (prices.json: data, so a price change is a one-line diff).

Only the first-party API providers are priced. A local model is free; so is an OpenAI-compatible server
on this machine (Ollama, llama.cpp). Anywhere else an OpenAI-compatible server, or an unknown model, has
no price we can know; agent CLIs report their own cost, which the stage runner prefers.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from executions.engine.providers.api_common import DEFAULT_MODELS, is_loopback_url
from executions.engine.types import Usage

PRICES_FILE = Path(__file__).with_name("prices.json")
# What may follow a table key in a dated or suffixed id: claude-haiku-4-5-20251001, gpt-4o-2024-08-06,
# gemini-2.5-flash-preview-09-2025, claude-sonnet-4-5@20250929 (Vertex), …:free, …[1m].
_BOUNDARY = re.compile(r"^(?:$|[-@:\[])")
# …but a one- or two-digit number after a dash is a further version, another model: claude-opus-4-9.
_ANOTHER_VERSION = re.compile(r"^-\d{1,2}(?!\d)")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float


@functools.cache
def price_table() -> dict[str, dict[str, ModelPrice]]:
    raw = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    return {
        provider: {
            model: ModelPrice(p["input"], p["output"], p["cacheRead"], p["cacheWrite"]) for model, p in models.items()
        }
        for provider, models in raw.items()
        if not provider.startswith("_")
    }


def lookup_price(provider: str, model: str | None) -> ModelPrice | None:
    """The price of ``model`` (the provider's default model when unset); the longest matching key wins."""
    entries = price_table().get(provider)
    if entries is None:
        return None
    model_id = (model or DEFAULT_MODELS[provider]).strip().lower().removeprefix("models/")
    best: str | None = None
    for key in entries:
        if not model_id.startswith(key):
            continue
        rest = model_id[len(key) :]
        if _BOUNDARY.match(rest) and not _ANOTHER_VERSION.match(rest) and (best is None or len(key) > len(best)):
            best = key
    return None if best is None else entries[best]


def estimate_cost(provider: str, model: str | None, usage: Usage, *, base_url: str | None = None) -> tuple[float, str]:
    """(USD, cost source) for one call. The source is ``price-table``, ``free`` or ``unknown`` (cost 0).

    ``base_url`` is the stage's server URL: an openai-compatible server on loopback runs on this machine.
    """
    if provider == "local" or (provider == "openai-compatible" and is_loopback_url(base_url)):
        return 0.0, "free"
    price = lookup_price(provider, model)
    if price is None:
        return 0.0, "unknown"
    micro_dollars = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * price.cache_read
        + usage.cache_write_tokens * price.cache_write
    )
    # Rounded to 1e-10 USD so sums of float prices come out as the figures a person would compute.
    return round(micro_dollars * 1e4) / 1e10, "price-table"
