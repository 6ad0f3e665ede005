"""Template filters of the compare page: a metric's difference from the first run's, signed."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from executions.engine.formatting import format_duration

register = template.Library()


def _delta(value: float | None, text: str) -> SafeString | str:
    if value is None:
        return ""
    kind = "same" if value == 0 else ("more" if value > 0 else "less")
    return format_html('<span class="delta delta-{}">{}</span>', kind, text)


def _sign(value: float) -> str:
    return "±" if value == 0 else ("+" if value > 0 else "−")


@register.filter
def delta_ms(value: float | None) -> SafeString | str:
    return _delta(value, f"{_sign(value)}{format_duration(abs(value))}" if value is not None else "")


@register.filter
def delta_int(value: float | None) -> SafeString | str:
    return _delta(value, f"{_sign(value)}{abs(int(value)):,}" if value is not None else "")


@register.filter
def cost_usd(value: float | None) -> str:
    return "—" if value is None else f"${value:.4f}"


@register.filter
def delta_cost(value: float | None) -> SafeString | str:
    return _delta(value, f"{_sign(value)}${abs(value):.4f}" if value is not None else "")
