"""Template helpers of the portal. Model text reaches HTML only through ``output_text`` (escaped)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from executions.engine import wire
from executions.engine.conditions import describe_condition
from executions.engine.formatting import format_cost, format_duration
from executions.portal.presenters import EXECUTION_LABELS
from executions.selectors import executions_active_count

register = template.Library()


@register.filter
def output_text(text: str) -> SafeString:
    """Model text as HTML text: escaped, and CR as a character reference, because the HTML parser and
    the SSE parser would both turn a raw CR into a line feed and the page must show the text exactly."""
    return mark_safe(escape(text).replace("\r", "&#13;"))  # noqa: S308 - escaped on the line itself


@register.filter
def duration_ms(value: float | None) -> str:
    return format_duration(value)


@register.filter
def execution_label(status: str) -> str:
    return EXECUTION_LABELS.get(status, status)


@register.filter
def run_duration(execution: Any) -> str:
    ms = execution.duration_ms
    if ms is None and execution.started_at and not execution.ended_at:
        return "running"
    return format_duration(ms)


@register.filter
def run_cost(execution: Any) -> str:
    if execution.status in wire.ACTIVE_EXECUTION_STATUSES:
        return "—"
    return format_cost(execution.total_cost, "tool") if execution.total_cost else "—"


@register.filter
def condition_text(condition: dict[str, Any]) -> str:
    try:
        return describe_condition(condition)
    except (KeyError, TypeError, IndexError):
        return json.dumps(condition)


@register.filter
def epoch_ms(value: datetime | None) -> str:
    return str(int(value.timestamp() * 1000)) if value else ""


@register.filter
def chars(n: int) -> str:
    return f"{n:,} character{'' if n == 1 else 's'}"


@register.simple_tag(takes_context=True)
def running_count(context: template.Context) -> int:
    """The navigation's count of queued and running executions (one indexed count per page)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    return executions_active_count(user=request.user)
