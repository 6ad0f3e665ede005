"""skipIf / runIf / earlyExit. A leaf tests the value at ``path``; with several operators, all must hold.

A missing value (or null) equals nothing, so ``notEquals`` holds for it and ``exists: false`` is true.
``equals`` / ``in`` are strict as in JSON: ``7`` is not ``"7"`` and ``true`` is not ``1``.
gt/gte/lt/lte accept numbers and numeric strings (``"8"`` from a model's JSON), nothing else.
``matches`` is a Python regular expression, searched anywhere in the text (``re.search``); start it
with ``(?i)`` to ignore case.
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any

from .context import RunContext, resolve_path, scalar_text, show_json

LEAF_OPERATORS = ("equals", "notEquals", "in", "contains", "matches", "exists", "gt", "gte", "lt", "lte")

_NUMERIC = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")


def is_leaf(cond: dict[str, Any]) -> bool:
    return "path" in cond


def compile_matches(pattern: str) -> re.Pattern[str]:
    """The one place a ``matches`` pattern is compiled, so validation and evaluation agree."""
    return re.compile(pattern)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JSON equality of scalars: a boolean is never a number (Python says ``True == 1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return a is None and b is None


def _to_number(value: Any) -> int | float | None:
    # An int stays an int: a model's JSON may hold one past float's range (json.loads keeps it exact),
    # and Python compares it with a float bound exactly, where float() would raise OverflowError.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _NUMERIC.fullmatch(value.strip()):
        text = value.strip()
        if text[:2].lower() in ("0x", "0o", "0b"):
            return int(text, 0)
        n = float(text)
        return n if math.isfinite(n) else None
    return None


def _evaluate_leaf(leaf: dict[str, Any], ctx: RunContext) -> bool:
    found, hit = resolve_path(ctx, str(leaf["path"]))
    present = found and hit is not None
    value = hit if present else None
    checks: list[bool] = []
    if "exists" in leaf:
        checks.append(present == leaf["exists"])
    if "equals" in leaf:
        checks.append(present and _same(value, leaf["equals"]))
    if "notEquals" in leaf:
        checks.append(not present or not _same(value, leaf["notEquals"]))
    if "in" in leaf:
        checks.append(present and any(_same(value, v) for v in leaf["in"]))
    if "contains" in leaf:
        needle = leaf["contains"]
        if isinstance(value, str):
            checks.append(needle in value)
        else:
            checks.append(isinstance(value, list) and any(_same(v, needle) for v in value))
    if "matches" in leaf:
        text = value if isinstance(value, str) else scalar_text(value) if present and _is_scalar(value) else None
        checks.append(text is not None and compile_matches(leaf["matches"]).search(text) is not None)
    n = _to_number(value)
    for op, test in (("gt", operator.gt), ("gte", operator.ge), ("lt", operator.lt), ("lte", operator.le)):
        if op in leaf:
            checks.append(n is not None and test(n, leaf[op]))
    # A bare `{path}` (validation rejects it) reads as "exists" rather than a silent `true`.
    return all(checks) if checks else present


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool) or _is_number(value)


def evaluate_condition(cond: dict[str, Any], ctx: RunContext) -> bool:
    if is_leaf(cond):
        return _evaluate_leaf(cond, ctx)
    if "all" in cond:
        return all(evaluate_condition(c, ctx) for c in cond["all"])
    if "any" in cond:
        return any(evaluate_condition(c, ctx) for c in cond["any"])
    return not evaluate_condition(cond["not"], ctx)


def condition_paths(cond: dict[str, Any]) -> list[str]:
    """Every ``path`` the condition reads, in order of appearance."""
    if is_leaf(cond):
        return [cond["path"]]
    if "all" in cond or "any" in cond:
        return [p for c in cond.get("all", cond.get("any", [])) for p in condition_paths(c)]
    return condition_paths(cond["not"])


def _describe_leaf(leaf: dict[str, Any]) -> str:
    parts: list[str] = []
    if "exists" in leaf:
        parts.append("exists" if leaf["exists"] else "does not exist")
    if "equals" in leaf:
        parts.append(f"equals {show_json(leaf['equals'])}")
    if "notEquals" in leaf:
        parts.append(f"does not equal {show_json(leaf['notEquals'])}")
    if "in" in leaf:
        parts.append(f"is one of {', '.join(show_json(v) for v in leaf['in'])}")
    if "contains" in leaf:
        parts.append(f"contains {show_json(leaf['contains'])}")
    if "matches" in leaf:
        parts.append(f"matches /{leaf['matches']}/")
    for op, sign in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
        if op in leaf:
            parts.append(f"{sign} {scalar_text(leaf[op])}")
    return f"{leaf['path']} {' and '.join(parts or ['exists'])}"


def _wrap(cond: dict[str, Any]) -> str:
    text = describe_condition(cond)
    if "not" in cond and not is_leaf(cond):
        return text
    return text if is_leaf(cond) and " and " not in text else f"({text})"


def describe_condition(cond: dict[str, Any]) -> str:
    """Human text for skip reasons: ``stages.draft.data.verdict equals "ok"``."""
    if is_leaf(cond):
        return _describe_leaf(cond)
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in cond:
            subs = cond[key]
            return describe_condition(subs[0]) if len(subs) == 1 else joiner.join(_wrap(c) for c in subs)
    return f"not {_wrap(cond['not'])}"
