"""The price table and cost estimates (executions/engine/cost.py, prices.json)."""

from __future__ import annotations

import json

import pytest

from executions.engine.cost import PRICES_FILE, estimate_cost, lookup_price
from executions.engine.types import Usage


def test_input_and_output_at_the_models_rates() -> None:
    # claude-haiku-4-5: $1 in, $5 out per MTok → 1000 in = $0.001, 2000 out = $0.01
    assert estimate_cost("anthropic", "claude-haiku-4-5", Usage(1000, 2000)) == (0.011, "price-table")
    # gpt-4o-mini: $0.15 / $0.60 → 1M in + 1M out = $0.75
    assert estimate_cost("openai", "gpt-4o-mini", Usage(1_000_000, 1_000_000)) == (0.75, "price-table")
    # gemini-2.5-flash: $0.30 / $2.50 → 10k in = $0.003, 4k out = $0.01
    assert estimate_cost("google", "gemini-2.5-flash", Usage(10_000, 4_000)) == (0.013, "price-table")


def test_cache_reads_and_writes_at_their_own_rates() -> None:
    # claude-sonnet-4-5: in $3, out $15, cache read $0.30, cache write $3.75
    # 100k in = 0.3, 10k out = 0.15, 1M cache read = 0.3, 200k cache write = 0.75 → 1.5
    usage = Usage(input_tokens=100_000, output_tokens=10_000, cache_read_tokens=1_000_000, cache_write_tokens=200_000)
    assert estimate_cost("anthropic", "claude-sonnet-4-5", usage) == (1.5, "price-table")
    # gpt-4o: in $2.50, cached $1.25, out $10 → 2000 in = 0.005, 8000 cached = 0.01, 500 out = 0.005
    assert estimate_cost("openai", "gpt-4o", Usage(2000, 500, cache_read_tokens=8000)) == (0.02, "price-table")


def test_opus_4_1_keeps_the_old_tier_opus_4_5_the_new_one() -> None:
    usage = Usage(1_000_000, 1_000_000)
    assert estimate_cost("anthropic", "claude-opus-4-1", usage) == (90.0, "price-table")
    assert estimate_cost("anthropic", "claude-opus-4-5", usage) == (30.0, "price-table")


@pytest.mark.parametrize(
    ("provider", "model", "field", "value"),
    [
        ("anthropic", "claude-opus-4-1-20250805", "input", 15),
        ("anthropic", "claude-opus-4-20250514", "input", 15),
        ("anthropic", "claude-sonnet-4-5-20250929", "cache_write", 3.75),
        ("anthropic", "claude-sonnet-4-5@20250929", "input", 3),
        ("anthropic", "claude-opus-4-8[1m]", "output", 25),
        ("openai", "gpt-4o-mini-2024-07-18", "input", 0.15),
        ("openai", "gpt-4o-2024-08-06", "input", 2.5),
        ("openai", "gpt-4.1-nano-2025-04-14", "input", 0.1),
        ("openai", "o4-mini-2025-04-16", "cache_read", 0.275),
        ("google", "gemini-2.5-flash-preview-09-2025", "output", 2.5),
        ("google", "gemini-2.5-flash-lite", "output", 0.4),
        ("google", "models/gemini-2.5-pro", "input", 1.25),
        ("google", "Gemini-2.5-Pro", "input", 1.25),
    ],
)
def test_dated_and_suffixed_ids_match_their_base_model_longest_key_wins(
    provider: str, model: str, field: str, value: float
) -> None:
    price = lookup_price(provider, model)
    assert price is not None and getattr(price, field) == value


def test_a_dated_id_prices_as_its_base() -> None:
    assert lookup_price("anthropic", "claude-haiku-4-5-20251001") == lookup_price("anthropic", "claude-haiku-4-5")


@pytest.mark.parametrize(
    ("provider", "model"), [("anthropic", "claude-opus-4-9"), ("anthropic", "claude-sonnet-4-7"), ("openai", "gpt-4o2")]
)
def test_a_further_version_number_is_another_model(provider: str, model: str) -> None:
    assert lookup_price(provider, model) is None


def test_no_model_prices_the_providers_default_model() -> None:
    assert estimate_cost("anthropic", None, Usage(1_000_000, 0)) == (1.0, "price-table")
    assert estimate_cost("openai", None, Usage(0, 1_000_000)) == (0.6, "price-table")
    assert estimate_cost("google", None, Usage(1_000_000, 0)) == (0.3, "price-table")


@pytest.mark.parametrize(
    ("provider", "model", "base_url"),
    [
        ("cli", "sonnet", None),
        ("openai-compatible", "gpt-4o-mini", None),
        ("openai-compatible", "llama3", "https://openrouter.ai/api/v1"),
        ("anthropic", "claude-unreleased-9", None),
        ("openai", "my-finetune", None),
    ],
)
def test_unpriced_is_unknown_and_zero(provider: str, model: str, base_url: str | None) -> None:
    assert estimate_cost(provider, model, Usage(5000, 5000), base_url=base_url) == (0.0, "unknown")


@pytest.mark.parametrize(
    ("provider", "base_url"),
    [
        ("local", None),
        ("openai-compatible", "http://127.0.0.1:11434/v1"),
        ("openai-compatible", "http://localhost:8080/v1"),
        ("openai-compatible", "http://[::1]:1234/v1"),
    ],
)
def test_a_model_on_this_machine_is_free(provider: str, base_url: str | None) -> None:
    assert estimate_cost(provider, "llama3", Usage(5000, 5000), base_url=base_url) == (0.0, "free")


def test_zero_usage_costs_zero_but_is_priced() -> None:
    assert estimate_cost("anthropic", "claude-haiku-4-5", Usage(0, 0)) == (0.0, "price-table")


def test_every_entry_has_four_non_negative_prices_output_at_least_input() -> None:
    table = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    assert sorted(k for k in table if not k.startswith("_")) == ["anthropic", "google", "openai"]
    for provider, models in table.items():
        if provider.startswith("_"):
            continue
        for model, price in models.items():
            assert sorted(price) == ["cacheRead", "cacheWrite", "input", "output"], f"{provider}/{model}"
            assert all(v >= 0 for v in price.values()), f"{provider}/{model}"
            assert price["output"] >= price["input"], f"{provider}/{model}"
