"""Cost estimates (executions/engine/cost.py): genai-prices' database, prices.json as overrides."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import data_snapshot

from executions.engine import cost
from executions.engine.cost import PRICES_FILE, estimate_cost
from executions.engine.types import Usage


@pytest.fixture
def overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A prices.json of the test's own, read afresh."""
    path = tmp_path / "prices.json"
    monkeypatch.setattr(cost, "PRICES_FILE", path)
    cost.price_overrides.cache_clear()
    yield path
    cost.price_overrides.cache_clear()


def test_input_and_output_at_the_models_rates() -> None:
    # claude-haiku-4-5: $1 in, $5 out per MTok → 1000 in = $0.001, 2000 out = $0.01
    assert estimate_cost("anthropic", "claude-haiku-4-5", Usage(1000, 2000)) == (0.011, "price-table")
    # gpt-4o-mini: $0.15 / $0.60 → 1M in + 1M out = $0.75
    assert estimate_cost("openai", "gpt-4o-mini", Usage(1_000_000, 1_000_000)) == (0.75, "price-table")
    # gemini-2.5-flash: $0.30 / $2.50 → 10k in = $0.003, 4k out = $0.01
    assert estimate_cost("google", "gemini-2.5-flash", Usage(10_000, 4_000)) == (0.013, "price-table")


def test_cache_reads_and_writes_at_their_own_rates() -> None:
    # claude-sonnet-4-5: in $3, out $15, cache read $0.30, cache write $3.75
    # 100k in = 0.3, 10k out = 0.15, 50k cache read = 0.015, 20k cache write = 0.075 → 0.54
    usage = Usage(input_tokens=100_000, output_tokens=10_000, cache_read_tokens=50_000, cache_write_tokens=20_000)
    assert estimate_cost("anthropic", "claude-sonnet-4-5", usage) == (0.54, "price-table")
    # gpt-4o: in $2.50, cached $1.25, out $10 → 2000 in = 0.005, 8000 cached = 0.01, 500 out = 0.005
    assert estimate_cost("openai", "gpt-4o", Usage(2000, 500, cache_read_tokens=8000)) == (0.02, "price-table")


def test_a_long_prompt_is_priced_at_the_long_context_tier() -> None:
    # claude-sonnet-4-5 over 200k input tokens (cached ones count): in $6, out $22.50, cache read $0.60
    usage = Usage(input_tokens=150_000, output_tokens=10_000, cache_read_tokens=100_000)
    assert estimate_cost("anthropic", "claude-sonnet-4-5", usage) == (1.185, "price-table")
    # the same at 200k and under is the base tier: 0.3 + 0.15 + 0.03
    assert estimate_cost("anthropic", "claude-sonnet-4-5", Usage(100_000, 10_000, 100_000)) == (0.48, "price-table")


def test_opus_4_1_keeps_the_old_tier_opus_4_5_the_new_one() -> None:
    usage = Usage(100_000, 100_000)
    assert estimate_cost("anthropic", "claude-opus-4-1", usage) == (9.0, "price-table")
    assert estimate_cost("anthropic", "claude-opus-4-5", usage) == (3.0, "price-table")


#: 100k tokens of one kind (under every long-context threshold): USD = a tenth of the price per MTok
ONE_KIND = {
    "input": Usage(100_000, 0),
    "output": Usage(0, 100_000),
    "cache_read": Usage(0, 0, cache_read_tokens=100_000),
    "cache_write": Usage(0, 0, cache_write_tokens=100_000),
}


@pytest.mark.parametrize(
    ("provider", "model", "kind", "usd"),
    [
        ("anthropic", "claude-opus-4-1-20250805", "input", 1.5),
        ("anthropic", "claude-opus-4-20250514", "input", 1.5),
        ("anthropic", "claude-sonnet-4-5-20250929", "cache_write", 0.375),
        ("anthropic", "claude-sonnet-4-5@20250929", "input", 0.3),
        ("anthropic", "claude-opus-4-8[1m]", "output", 2.5),
        ("openai", "gpt-4o-mini-2024-07-18", "input", 0.015),
        ("openai", "gpt-4o-2024-08-06", "input", 0.25),
        ("openai", "gpt-4.1-nano-2025-04-14", "input", 0.01),
        ("openai", "o4-mini-2025-04-16", "cache_read", 0.0275),
        ("google", "gemini-2.5-flash-preview-09-2025", "output", 0.25),
        ("google", "gemini-2.5-flash-lite", "output", 0.04),
        ("google", "models/gemini-2.5-pro", "input", 0.125),
        ("google", "Gemini-2.5-Pro", "input", 0.125),
    ],
)
def test_dated_and_suffixed_ids_are_priced_as_their_base_model(
    provider: str, model: str, kind: str, usd: float
) -> None:
    assert estimate_cost(provider, model, ONE_KIND[kind]) == (usd, "price-table")


def test_a_dated_id_prices_as_its_base() -> None:
    usage = Usage(12_345, 678, 9_000, 1_000)
    assert estimate_cost("anthropic", "claude-haiku-4-5-20251001", usage) == estimate_cost(
        "anthropic", "claude-haiku-4-5", usage
    )


@pytest.mark.parametrize(
    ("provider", "model"), [("anthropic", "claude-opus-4-9"), ("anthropic", "claude-sonnet-4-7"), ("openai", "gpt-4o2")]
)
def test_a_further_version_number_is_another_model(provider: str, model: str) -> None:
    assert estimate_cost(provider, model, Usage(5000, 5000)) == (0.0, "unknown")


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
        ("google", "gemini-0-imaginary", None),
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


# --- prices.json: local overrides -------------------------------------------------------------------


def test_a_model_genai_prices_lacks_is_priced_from_prices_json() -> None:
    assert cost.genai_price("google", "gemini-3-pro", Usage(1_000_000, 0)) is None
    # gemini-3-pro: $2 in, $12 out, $0.20 cache read
    usage = Usage(1_000_000, 100_000, cache_read_tokens=500_000)
    assert estimate_cost("google", "gemini-3-pro", usage) == (3.3, "price-table")


def test_an_override_wins_over_genai_prices_and_matches_dated_ids(overrides: Path) -> None:
    overrides.write_text(
        json.dumps(
            {
                "_note": "a test's own",
                "anthropic": {"claude-haiku-4-5": {"input": 2, "output": 7, "cacheRead": 0.5, "cacheWrite": 3}},
            }
        )
    )
    usage = Usage(1_000_000, 1_000_000, 1_000_000, 1_000_000)
    assert estimate_cost("anthropic", "claude-haiku-4-5", usage) == (12.5, "price-table")
    assert estimate_cost("anthropic", "claude-haiku-4-5-20251001", usage) == (12.5, "price-table")
    # genai-prices' own figure for the same usage, which the override replaced: 1 + 5 + 0.1 + 1.25
    assert cost.genai_price("anthropic", "claude-haiku-4-5", usage) == Decimal("7.35")
    # another model, another version: not the override's
    assert estimate_cost("anthropic", "claude-haiku-4-6", usage) == (0.0, "unknown")
    assert estimate_cost("anthropic", "claude-sonnet-4-5", Usage(100_000, 0)) == (0.3, "price-table")


def test_every_override_has_four_non_negative_prices_output_at_least_input() -> None:
    table = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    providers = [k for k in table if not k.startswith("_")]
    assert providers and set(providers) <= set(cost.GENAI_PROVIDERS)
    for provider in providers:
        for model, price in table[provider].items():
            assert sorted(price) == ["cacheRead", "cacheWrite", "input", "output"], f"{provider}/{model}"
            assert all(v >= 0 for v in price.values()), f"{provider}/{model}"
            assert price["output"] >= price["input"], f"{provider}/{model}"


# --- genai-prices stays offline ---------------------------------------------------------------------


def test_prices_come_from_the_bundled_data_with_no_network_whatever_else_set(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("genai-prices reached for the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    # An empty table set as genai-prices' global snapshot, as its UpdatePrices would set a fetched one.
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", data_snapshot.DataSnapshot([], from_auto_update=True))
    cost._bundled_prices.cache_clear()
    try:
        assert estimate_cost("openai", "gpt-4o-mini", Usage(1_000_000, 1_000_000)) == (0.75, "price-table")
    finally:
        cost._bundled_prices.cache_clear()
