"""Cost estimates: genai-prices' price database, with prices.json as local overrides.

Only the first-party API providers are priced. A local model is free; so is an OpenAI-compatible server
on this machine (Ollama, llama.cpp). Anywhere else an OpenAI-compatible server, or an unknown model, has
no price we can know; agent CLIs report their own cost, which the stage runner prefers.

genai-prices (pydantic/genai-prices) keeps the providers' prices, long-context tiers and dated model ids
up to date with each release. It is read offline only: the snapshot bundled with the installed version,
never its ``UpdatePrices``, which fetches a newer table over the network from a background thread.
prices.json holds what it lacks, or prices we know better; an entry there wins.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from executions.engine.providers.api_common import DEFAULT_MODELS, is_loopback_url
from executions.engine.types import Usage

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot

PRICES_FILE = Path(__file__).with_name("prices.json")
#: Our provider names → genai-prices' provider ids. The rest (cli, openai-compatible anywhere) is unpriced.
GENAI_PROVIDERS = {"anthropic": "anthropic", "openai": "openai", "google": "google"}
# What may follow an override key in a dated or suffixed id: claude-haiku-4-5-20251001, gpt-4o-2024-08-06,
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
def price_overrides() -> dict[str, dict[str, ModelPrice]]:
    raw = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    return {
        provider: {
            model: ModelPrice(p["input"], p["output"], p["cacheRead"], p["cacheWrite"]) for model, p in models.items()
        }
        for provider, models in raw.items()
        if not provider.startswith("_")
    }


def override_price(provider: str, model_id: str) -> ModelPrice | None:
    """The prices.json entry for ``model_id`` (normalized: see ``_model_id``); the longest matching key wins."""
    entries = price_overrides().get(provider, {})
    best: str | None = None
    for key in entries:
        if not model_id.startswith(key):
            continue
        rest = model_id[len(key) :]
        if _BOUNDARY.match(rest) and not _ANOTHER_VERSION.match(rest) and (best is None or len(key) > len(best)):
            best = key
    return None if best is None else entries[best]


@functools.cache
def _bundled_prices() -> DataSnapshot:
    # Our own snapshot of the bundled data rather than genai_prices.calc_price, whose global snapshot
    # an UpdatePrices started anywhere in the process would replace with one fetched from the network.
    # Imported on the first priced stage: the data module is 1.6 MB and takes ~0.4 s to import.
    from genai_prices.data import providers
    from genai_prices.data_snapshot import DataSnapshot

    return DataSnapshot(providers=providers, from_auto_update=False)


def genai_price(provider: str, model_id: str, usage: Usage) -> Decimal | None:
    """USD for ``usage`` at genai-prices' rates (its long-context tiers included); None when it has no price."""
    from genai_prices import Usage as GenaiUsage

    genai_usage = GenaiUsage(
        # genai-prices counts cached tokens inside input_tokens; ours are disjoint (see the providers' _usage_of).
        input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
    )
    try:
        calc = _bundled_prices().calc(genai_usage, model_id, GENAI_PROVIDERS[provider], None, None)
    except LookupError:
        return None
    return calc.total_price


def _model_id(provider: str, model: str | None) -> str:
    return (model or DEFAULT_MODELS[provider]).strip().lower().removeprefix("models/")


def estimate_cost(provider: str, model: str | None, usage: Usage, *, base_url: str | None = None) -> tuple[float, str]:
    """(USD, cost source) for one call. The source is ``price-table``, ``free`` or ``unknown`` (cost 0).

    ``model`` unset is the provider's default model. ``base_url`` is the stage's server URL: an
    openai-compatible server on loopback runs on this machine.
    """
    if provider == "local" or (provider == "openai-compatible" and is_loopback_url(base_url)):
        return 0.0, "free"
    if provider not in GENAI_PROVIDERS:
        return 0.0, "unknown"
    model_id = _model_id(provider, model)
    price = override_price(provider, model_id)
    if price is not None:
        micro_dollars = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + usage.cache_read_tokens * price.cache_read
            + usage.cache_write_tokens * price.cache_write
        )
        # Rounded to 1e-10 USD so sums of float prices come out as the figures a person would compute.
        return round(micro_dollars * 1e4) / 1e10, "price-table"
    total = genai_price(provider, model_id, usage)
    if total is None:
        return 0.0, "unknown"
    return float(total.quantize(Decimal("1e-10"))), "price-table"
