"""Finds the JSON in a model's answer.

Models wrap JSON in prose and fences, and leave trailing commas, so ``json.loads`` on the whole text
is not enough. No library does this string-aware search plus the "truncated vs stray brace"
distinction, hence the hand-written scanner.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import OutputParseError

_CLOSE_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})\s*")
_OPEN_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})\s*([^\s`]*)")
_LINE_BREAK = re.compile(r"\r?\n")


@dataclass(frozen=True, slots=True)
class Fence:
    lang: str
    code: str
    #: False when the answer ended inside the fence
    closed: bool


def find_fences(text: str) -> list[Fence]:
    """Fenced code blocks (``` or ~~~, CommonMark-style: the closer is at least as long as the opener)."""
    fences: list[Fence] = []
    marker: str | None = None
    lang = ""
    body: list[str] = []
    for line in _LINE_BREAK.split(text):
        if marker is not None:
            close = _CLOSE_FENCE.fullmatch(line)
            if close and close.group(1)[0] == marker[0] and len(close.group(1)) >= len(marker):
                fences.append(Fence(lang, "\n".join(body), True))
                marker = None
            else:
                body.append(line)
            continue
        start = _OPEN_FENCE.match(line)
        if start:
            marker, lang, body = start.group(1), start.group(2).lower(), []
    if marker is not None:
        fences.append(Fence(lang, "\n".join(body), False))
    return fences


def remove_trailing_commas(s: str) -> str:
    """Drops commas that precede ``}`` or ``]``, outside strings."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(s):
        c = s[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(s[i + 1 : i + 2])
                i += 1
            elif c == '"':
                in_string = False
        else:
            if c == '"':
                in_string = True
            if c == ",":
                j = i + 1
                while j < len(s) and s[j].isspace():
                    j += 1
                if j < len(s) and s[j] in "}]":
                    i += 1
                    continue
            out.append(c)
        i += 1
    return "".join(out)


def _no_constants(name: str) -> Any:
    # NaN and Infinity are not JSON; data holding them could not be stored or sent as JSON.
    raise ValueError(f"{name} is not valid JSON")


def _number(text: str) -> int | float:
    # JSON has one number type: 7.0 is 7, so it renders as "7" in prompts, as in v1.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def loads(s: str) -> Any:
    return json.loads(s, parse_float=_number, parse_constant=_no_constants)


def _try_parse(s: str) -> tuple[bool, Any]:
    """``(True, value)`` or ``(False, the first parse error's message)``."""
    try:
        return True, loads(s)
    except (ValueError, RecursionError) as err:
        try:
            return True, loads(remove_trailing_commas(s))
        except (ValueError, RecursionError):
            return False, str(err)


def _match_brackets(text: str, start: int) -> tuple[int, int]:
    """From ``start`` (a ``{`` or ``[``): the index of the matching closer, -1 when the text ends first
    (truncated) or -2 when a closer does not match (not JSON); and how far the search read."""
    stack: list[str] = []
    in_string = False
    i = start
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            stack.append("}")
        elif c == "[":
            stack.append("]")
        elif c in "}]":
            if not stack or stack.pop() != c:
                return -2, i
            if not stack:
                return i, i
        i += 1
    return -1, len(text)


_OBJECT_START = re.compile(r'\s*(["}]|\Z)')
_ARRAY_START = re.compile(r'\s*([{\["\]\-0-9tfn]|\Z)')

#: Characters the prose search may read in all. Each bracket starts a search to its closer, so an
#: answer full of stray brackets costs quadratic time; past this it gives up rather than stall the worker.
SCAN_BUDGET = 2_000_000


def _looks_like_json_start(text: str, i: int) -> bool:
    """Does an unclosed bracket at ``i`` start real JSON (cut off), or is it a stray brace in prose?"""
    return bool((_OBJECT_START if text[i] == "{" else _ARRAY_START).match(text, i + 1))


def _is_weak(value: Any) -> bool:
    """``[1]`` in prose is a citation more often than an answer: only used when nothing better is found."""
    return isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)


def excerpt(text: str, where: str = "start", limit: int = 80) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return json.dumps(flat, ensure_ascii=False)
    if where == "start":
        return f"{json.dumps(flat[:limit], ensure_ascii=False)}…"
    return f"…{json.dumps(flat[-limit:], ensure_ascii=False)}"


def _scan(text: str) -> Any:
    weak: list[Any] = []
    budget = SCAN_BUDGET
    i = 0
    while i < len(text) and budget > 0:
        c = text[i]
        if c not in "{[":
            i += 1
            continue
        end, reached = _match_brackets(text, i)
        budget -= reached - i + 1
        if end == -1:
            if not weak and _looks_like_json_start(text, i):
                raise OutputParseError(
                    f"the JSON in the answer is incomplete (cut off at the end?): {excerpt(text, 'end')}"
                )
            i += 1
            continue
        if end == -2:
            i += 1
            continue
        ok, value = _try_parse(text[i : end + 1])
        if ok and not _is_weak(value):
            return value
        if ok and not weak:
            weak.append(value)
        i = end + 1
    if weak:
        return weak[0]
    raise OutputParseError(f"no JSON found in the answer: {excerpt(text)}")


def extract_json(text: str) -> Any:
    """The JSON value in a model's answer: the whole text, a fenced block (json first), or the first
    balanced ``{…}`` / ``[…]`` in prose."""
    trimmed = text.removeprefix("\ufeff").strip()
    if not trimmed:
        raise OutputParseError("expected JSON but the answer is empty")
    ok, value = _try_parse(trimmed)
    if ok:
        return value
    fences = [f for f in find_fences(trimmed) if f.closed]
    ordered = [f for f in fences if f.lang.startswith("json")] + [f for f in fences if not f.lang.startswith("json")]
    fence_error: str | None = None
    for fence in ordered:
        body = fence.code.strip()
        if not body:
            continue
        ok, value = _try_parse(body)
        if ok:
            return value
        if fence.lang.startswith("json") and fence_error is None:
            fence_error = value
    try:
        return _scan(trimmed)
    except OutputParseError as err:
        if fence_error is not None and err.message.startswith("no JSON"):
            raise OutputParseError(
                f"the json block in the answer is not valid JSON ({fence_error}): {excerpt(trimmed)}"
            ) from None
        raise
