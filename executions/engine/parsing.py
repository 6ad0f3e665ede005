"""Turns a stage's answer into its ``data``, as its ``output`` spec asks.

- text → ``None`` (templates use ``.output``)
- markdown → ``{"sections": {heading: body}, "codeBlocks": [{"lang", "code"}]}``
- json → the JSON value found in the answer (see :mod:`.json_extract`)

``extract: [{name, path, required}]`` adds ``data[name]`` = the value at ``path`` (read from the parsed
value as written, so ``0.title`` works on an array). The data must be an object to hold those names,
so an array or scalar answer is wrapped as ``{"value": <answer>}`` first. An extracted name wins over
a key of the same name in the answer. A missing optional field becomes ``None`` (renders as "" in
templates, and ``exists: false`` in conditions); a missing required one fails the stage.
"""

from __future__ import annotations

import re
from typing import Any

from executions.engine.surrogates import storable

from .context import describe_miss, split_path, walk
from .errors import OutputParseError
from .json_extract import extract_json, find_fences

__all__ = ["extract_json", "parse_markdown", "parse_output"]

_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def parse_markdown(text: str) -> dict[str, Any]:
    """Sections keyed by heading text; a section's body runs to the next heading of the same or a
    higher level, so ``sections.Review`` includes its sub-sections. Text before the first heading is
    not a section. A repeated heading gets " (2)", " (3)"… so no body is lost."""
    lines = re.split(r"\r?\n", text)
    headings: list[tuple[int, int, str]] = []
    fence: str | None = None
    for i, line in enumerate(lines):
        f = _FENCE.match(line)
        if fence is not None:
            if f and f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence) and line.strip() == f.group(1):
                fence = None
            continue
        if f:
            fence = f.group(1)
            continue
        h = _HEADING.fullmatch(line)
        if h and h.group(2).strip():
            headings.append((i, len(h.group(1)), h.group(2).strip()))
    sections: dict[str, str] = {}
    for k, (line_no, level, title) in enumerate(headings):
        end = next((n[0] for n in headings[k + 1 :] if n[1] <= level), len(lines))
        key, n = title, 2
        while key in sections:
            key, n = f"{title} ({n})", n + 1
        sections[key] = "\n".join(lines[line_no + 1 : end]).strip()
    code_blocks = [{"lang": f.lang, "code": f.code} for f in find_fences(text)]
    return {"sections": sections, "codeBlocks": code_blocks}


def _apply_extract(parsed: Any, extract: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = dict(parsed) if isinstance(parsed, dict) else {"value": parsed}
    for fld in extract:
        segments = split_path(fld["path"])
        found, value = walk(parsed, segments)
        if found and value is not None:
            data[fld["name"]] = value
            continue
        if fld.get("required"):
            depth, holds = describe_miss(parsed, segments)
            where = "the answer" if depth == 0 else ".".join(segments[:depth])
            raise OutputParseError(
                f'required field "{fld["name"]}" (path {fld["path"]}) is missing from the answer; {where} has {holds}'
            )
        data[fld["name"]] = None
    return data


def parse_output(text: str, spec: dict[str, Any] | None, where: str) -> Any:
    """The stage's data; raises OutputParseError (prefixed with ``where``) when the answer does not fit."""
    fmt = (spec or {}).get("format", "text")
    if fmt == "text":
        return None
    try:
        parsed = parse_markdown(text) if fmt == "markdown" else extract_json(text)
        extract = (spec or {}).get("extract") or []
        # JSON escapes can spell what no store holds ("\u0000", half a surrogate pair): mended as text is.
        return storable(_apply_extract(parsed, extract) if extract else parsed)
    except OutputParseError as err:
        raise OutputParseError(f"{where}: {err.message}" if where else err.message) from None
