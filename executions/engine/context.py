"""What templates and conditions can see while a pipeline runs: the input and every stage's state.

Paths are dotted (``stages.draft.data.items.0.title``); ``items[0]`` is accepted as ``items.0``.
The executor puts every stage in ``RunContext.stages`` as ``pending`` before the first one starts, so
a reference to a stage that has not run yet says so instead of "no such stage".
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

StageStatus = Literal["pending", "running", "completed", "skipped", "failed", "cancelled"]


@dataclass(slots=True)
class StageState:
    status: StageStatus = "pending"
    output: str = ""
    #: the parsed answer (json / markdown stages); ``None`` when the stage has none (text, skipped, failed)
    data: Any = None


@dataclass(slots=True)
class RunContext:
    input: str
    stages: dict[str, StageState] = field(default_factory=dict)


_INDEX = re.compile(r"\[([0-9]+)\]")
_DIGITS = re.compile(r"[0-9]+")


def split_path(path: str) -> list[str]:
    """``a.b[0].c`` → ``["a", "b", "0", "c"]``; empty segments are kept so they fail to resolve."""
    return [seg.strip() for seg in _INDEX.sub(r".\1", path.strip()).split(".")]


_MISSING = object()


def _child(value: Any, seg: str) -> Any:
    if isinstance(value, RunContext):
        if seg == "input":
            return value.input
        return value.stages if seg == "stages" else _MISSING
    if isinstance(value, StageState):
        if seg in ("status", "output"):
            return getattr(value, seg)
        # A stage with no data (text format, skipped, failed) has nothing under `data`, not a null.
        return value.data if seg == "data" and value.data is not None else _MISSING
    if isinstance(value, list):
        if not _DIGITS.fullmatch(seg):
            return _MISSING
        i = int(seg)
        return value[i] if i < len(value) else _MISSING
    if isinstance(value, dict):
        return value.get(seg, _MISSING)
    return _MISSING


def walk(root: Any, segments: list[str] | tuple[str, ...]) -> tuple[bool, Any]:
    """Follows ``segments`` from ``root`` through dicts, lists and the context itself."""
    value = root
    for seg in segments:
        value = _child(value, seg)
        if value is _MISSING:
            return False, None
    return True, value


def resolve_path(ctx: RunContext, path: str) -> tuple[bool, Any]:
    """``(found, value)``; a JSON null that is there is found, with the value ``None``."""
    return walk(ctx, split_path(path))


def _keys_of(value: Any) -> list[str] | None:
    if isinstance(value, RunContext):
        return ["input", "stages"]
    if isinstance(value, StageState):
        return ["status", "output"] + (["data"] if value.data is not None else [])
    if isinstance(value, dict):
        return [str(k) for k in value]
    return None


def type_name(value: Any) -> str:
    """The JSON name of a value's type, as people who write pipelines know them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe_keys(value: Any) -> str:
    """Top-level keys (or the index range) of a value, for "what exists instead" hints in errors."""
    if isinstance(value, list):
        return "an empty array" if not value else f"an array of {len(value)} (indexes 0-{len(value) - 1})"
    keys = _keys_of(value)
    if keys is not None:
        return f"keys: {', '.join(keys)}" if keys else "an empty object"
    return f"a {type_name(value)} value"


def describe_miss(root: Any, segments: list[str] | tuple[str, ...]) -> tuple[int, str]:
    """Where a path stops resolving: how many of its segments resolve, and what the last one holds."""
    depth = 0
    while depth < len(segments) and walk(root, segments[: depth + 1])[0]:
        depth += 1
    return depth, describe_keys(walk(root, segments[:depth])[1])


def scalar_text(value: Any) -> str:
    """A scalar as JavaScript's ``String()`` shows it (v1 did): ``true``, ``7`` for 7.0, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


def show_json(value: Any) -> str:
    """Compact JSON for messages; never raises (a value from YAML may hold a date or bytes)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return scalar_text(value)
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return str(value)
