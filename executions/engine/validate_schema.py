"""The pipeline file's schema, checked by hand so every message is one a person can act on, with the
path printed the way users write it (``stages[2].model.provider``).

v1 used zod and translated its issues; here each check writes the message directly. A check returns
the normalized value (defaults filled in), or ``None`` after recording an issue. It never raises,
whatever it is given.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .context import show_json, type_name

Issues = list[tuple[str, str]]


class Check(Protocol):
    """Records what is wrong with ``v`` (found at ``at``) in ``out``; returns the normalized value."""

    @property
    def expected(self) -> str: ...

    def __call__(self, v: Any, at: str, out: Issues) -> Any: ...


_MAX_SAFE_INT = 2**53 - 1


def key_path(at: str, key: object) -> str:
    return f"{at}.{key_text(key)}" if at else key_text(key)


def key_text(key: object) -> str:
    text = show_json(key) if key is None or isinstance(key, bool) else str(key)
    return f"{text[:60]}…" if len(text) > 60 else text


def describe_value(v: Any) -> str:
    """What was actually there: ``string "abc"``, ``an array``, ``null``."""
    if v is None:
        return "null"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    kind = type_name(v)
    if kind not in ("string", "number", "boolean"):
        return f"a {kind} value"
    return f"{kind} {short_json(v, 40)}"


def short_json(v: Any, limit: int = 60) -> str:
    """``v`` as JSON, cut at ``limit`` characters: a message quotes what was there, not all of it."""
    text = show_json(v)
    return f"{text[:limit]}…" if len(text) > limit else text


#: How alike (difflib's ratio, 0..1) a word must be to a name to be offered as its likely typo. 0.75 keeps
#: one-letter slips and swapped letters (promt, modle, equal) and drops chance likenesses (temp: system).
SUGGEST_CUTOFF = 0.75


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` is most likely a typo of, ignoring case, when one is alike enough."""
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    if not by_lower or len(word) > 2 * max(map(len, by_lower)):
        return None  # too long to reach the cutoff (difflib would index all of a 1 MB value first)
    match = difflib.get_close_matches(word.lower(), by_lower, n=1, cutoff=SUGGEST_CUTOFF)
    return by_lower[match[0]] if match else None


# --- Leaf checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    min_len: int = 0
    pattern: re.Pattern[str] | None = None
    #: said after the value when ``pattern`` does not match
    pattern_message: str = "has the wrong format"
    url: bool = False
    expected: str = "a string"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if not isinstance(v, str):
            out.append((at, f"expected a string; got {describe_value(v)}"))
            return None
        ok = True
        if len(v) < self.min_len:
            out.append((at, "must not be empty"))
            ok = False
        if self.pattern is not None and not self.pattern.fullmatch(v):
            out.append((at, f"{short_json(v)} {self.pattern_message}"))
            ok = False
        if self.url and not _URL.fullmatch(v):
            out.append((at, f"{short_json(v)} is not a valid URL"))
            ok = False
        return v if ok else None


# Every provider speaks HTTP(S) to its server, so that is what a baseURL must be.
_URL = re.compile(r"https?://[^\s/?#]+([/?#]\S*)?", re.IGNORECASE)


def _finite_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


@dataclass(frozen=True)
class Num:
    integer: bool = False
    gt: float | None = None
    ge: float | None = None
    le: float | None = None

    @property
    def expected(self) -> str:
        return "a whole number" if self.integer else "a number"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if not _finite_number(v):
            out.append((at, f"expected a number; got {describe_value(v)}"))
            return None
        before = len(out)
        if self.integer and not (float(v).is_integer() and abs(v) <= _MAX_SAFE_INT):
            out.append((at, f"expected a whole number; got {describe_value(v)}"))
        if self.gt is not None and not v > self.gt:
            out.append((at, f"must be greater than {self.gt:g}; got {describe_value(v)}"))
        if self.ge is not None and not v >= self.ge:
            out.append((at, f"must be at least {self.ge:g}; got {describe_value(v)}"))
        if self.le is not None and not v <= self.le:
            out.append((at, f"must be at most {self.le:g}; got {describe_value(v)}"))
        if len(out) > before:
            return None
        return int(v) if self.integer else v


@dataclass(frozen=True)
class Bool:
    expected: str = "a boolean"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if isinstance(v, bool):
            return v
        out.append((at, f"expected a boolean; got {describe_value(v)}"))
        return None


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]
    #: what the value names: provider, tool, output format
    what: str
    expected: str = "a string"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if isinstance(v, str) and v in self.values:
            return v
        hint = closest(v, self.values) if isinstance(v, str) else None
        out.append(
            (
                at,
                f"unknown {self.what} {short_json(v)}; expected one of {', '.join(self.values)}"
                + (f' (did you mean "{hint}"?)' if hint else ""),
            )
        )
        return None


@dataclass(frozen=True)
class Scalar:
    expected: str = "a string, a number, a boolean or null"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if v is None or isinstance(v, str | bool) or _finite_number(v):
            return v
        out.append((at, f"expected a string, a number, a boolean or null; got {describe_value(v)}"))
        return None


@dataclass(frozen=True)
class ListOf:
    item: Check
    min_items: int = 0
    min_message: str = ""
    expected: str = "a list"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if not isinstance(v, list):
            out.append((at, f"expected a list; got {describe_value(v)}"))
            return None
        before = len(out)
        items = [self.item(x, f"{at}[{i}]", out) for i, x in enumerate(v)]
        if len(v) < self.min_items:
            s = "" if self.min_items == 1 else "s"
            out.append((at, self.min_message or f"needs at least {self.min_items} item{s}"))
        return items if len(out) == before else None


@dataclass(frozen=True)
class Obj:
    fields: dict[str, Check]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    #: names offered for "did you mean" beyond the fields (conditions: all, any, not)
    also_known: tuple[str, ...] = ()
    expected: str = "an object"

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if not isinstance(v, dict):
            out.append((at, f"expected an object; got {describe_value(v)}"))
            return None
        before = len(out)
        # Fields are checked in schema order (as v1 reported them), whatever order the file uses.
        checked: dict[str, Any] = {}
        for name, check in self.fields.items():
            if name in v:
                checked[name] = check(v[name], key_path(at, name), out)
            elif name in self.required:
                out.append((key_path(at, name), f"missing; expected {check.expected}"))
        for key in v:
            if not isinstance(key, str) or key not in self.fields:
                self.unknown(key, at, out)
        if len(out) > before:
            return None
        # The normalized value keeps the file's own key order, so it reads as it was written.
        result = {key: checked[key] for key in v if isinstance(key, str) and key in checked}
        for key, value in self.defaults.items():
            result.setdefault(key, value)
        return result

    def unknown(self, key: object, at: str, out: Issues) -> None:
        hint = closest(key_text(key), [*self.fields, *self.also_known])
        out.append((at, f'unknown field "{key_text(key)}"' + (f'; did you mean "{hint}"?' if hint else "")))
