"""How durations and costs read to a person, the same in the terminal, the portal and the admin."""

from __future__ import annotations


def format_duration(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{int(ms // 60_000)} min {ms % 60_000 / 1000:.0f} s"


def format_cost(cost: float, source: str) -> str:
    if source == "free":
        return "free"
    if source == "unknown":
        return "cost unknown"
    text = f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"
    return f"{text} est." if source == "price-table" else text
