"""Prompt templates: ``{{input}}``, ``{{stages.<id>.output}}``, ``{{stages.<id>.data.<path>}}``,
``{{stages.<id>.status}}``. Spaces inside the braces are ignored. ``\\{{`` writes a literal ``{{`` (for
prompts that show Handlebars or Jinja to the model).

What a stage that did not answer looks like: a skipped stage renders ``""`` for its output and data;
a failed one (under ``continueOnError``) its partial output and ``""`` for data; its status renders as
``skipped`` / ``failed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from .context import RunContext, describe_miss, scalar_text, split_path, walk
from .errors import TemplateError

RefKind = Literal["input", "stage-output", "stage-data", "stage-status", "unknown"]

REF = re.compile(r"(\\?)\{\{([^{}]*)\}\}")

VARIABLE_HELP = "use {{input}}, {{stages.<id>.output}}, {{stages.<id>.data.<path>}} or {{stages.<id>.status}}"


@dataclass(frozen=True, slots=True)
class Expr:
    kind: RefKind
    stage_id: str | None = None
    #: for stage-data: the path below ``data`` (empty for the whole data)
    data_path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplateRef:
    #: as written, braces included: ``{{ stages.draft.output }}``
    raw: str
    #: the trimmed inside: ``stages.draft.output``
    expr: str
    #: offset of ``raw`` in the template
    index: int
    kind: RefKind
    stage_id: str | None = None
    data_path: tuple[str, ...] = ()


def classify_expr(expr: str) -> Expr:
    if expr == "input":
        return Expr("input")
    segs = split_path(expr)
    if segs[0] != "stages" or len(segs) < 3 or not segs[1]:
        return Expr("unknown")
    stage_id, fld = segs[1], segs[2]
    if fld == "output" and len(segs) == 3:
        return Expr("stage-output", stage_id)
    if fld == "status" and len(segs) == 3:
        return Expr("stage-status", stage_id)
    if fld == "data" and all(segs[3:]):
        return Expr("stage-data", stage_id, tuple(segs[3:]))
    return Expr("unknown", stage_id)


def template_refs(template: str) -> list[TemplateRef]:
    """Every unescaped reference in ``template``, in order."""
    refs: list[TemplateRef] = []
    for m in REF.finditer(template):
        if m.group(1):
            continue
        expr = m.group(2).strip()
        e = classify_expr(expr)
        refs.append(TemplateRef(m.group(0), expr, m.start(), e.kind, e.stage_id, e.data_path))
    return refs


def template_references(template: str) -> list[str]:
    """The inside of every unescaped reference, trimmed: ``["input", "stages.draft.output"]``."""
    return [ref.expr for ref in template_refs(template)]


def format_value(value: Any) -> str:
    """A value as it appears in a prompt: strings as-is, null as nothing, objects and arrays as pretty JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return scalar_text(value)


def _resolve(expr: str, ctx: RunContext, where: str) -> str:
    e = classify_expr(expr)
    if e.kind == "input":
        return ctx.input
    if e.kind == "unknown" or e.stage_id is None:
        raise TemplateError(f"{where}: unknown variable {{{{{expr}}}}}; {VARIABLE_HELP}")

    def fail(why: str) -> TemplateError:
        return TemplateError(f"{where}: {{{{{expr}}}}} {why}")

    sid = e.stage_id
    state = ctx.stages.get(sid)
    if state is None:
        ids = ", ".join(ctx.stages) or "none"
        raise fail(f'refers to no stage "{sid}" (stages: {ids})')
    if e.kind == "stage-status":
        return state.status
    if state.status in ("pending", "running"):
        raise fail(f'refers to stage "{sid}", which has not finished (status {state.status})')
    if e.kind == "stage-output":
        return "" if state.status == "skipped" else state.output
    # A stage that produced no answer (skipped, or failed under continueOnError) renders empty data.
    if state.status != "completed":
        return ""
    if state.data is None:
        raise fail(
            f'has nothing to read: stage "{sid}" has no parsed data (its output format is text); '
            f"use {{{{stages.{sid}.output}}}}"
        )
    found, value = walk(state.data, e.data_path)
    if found:
        return format_value(value)
    depth, holds = describe_miss(state.data, e.data_path)
    at = ".".join(["stages", sid, "data", *e.data_path[:depth]])
    raise fail(f"resolved to nothing: {at} has {holds}")


def render_template(template: str, ctx: RunContext, where: str) -> str:
    """Substitutes every reference; raises TemplateError naming ``where`` and what exists instead."""

    def substitute(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(0)[1:]
        return _resolve(m.group(2).strip(), ctx, where)

    return REF.sub(substitute, template)
