"""validate_pipeline: the schema plus the checks a schema cannot express (:mod:`.validate_refs`).

Every problem is reported at once, each with its path
(``stages[2].prompt: unknown variable {{stages.nope.output}}``). Never raises, whatever it is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .pipeline_schema import PIPELINE
from .types import PipelineConfig
from .validate_refs import RefChecker
from .validate_schema import Issues, describe_value

__all__ = ["MAX_DEPTH", "MAX_VALUES", "ValidationResult", "format_issue", "validate_pipeline"]

#: Limits on what a file may expand to through YAML aliases, so a small file cannot make validation
#: (or storing the config) take forever or recurse past Python's stack.
MAX_DEPTH = 64
MAX_VALUES = 100_000


@dataclass(slots=True)
class ValidationResult:
    ok: bool
    #: the normalized pipeline (``output.format`` filled in), JSON-serializable; None when not ok
    config: PipelineConfig | None
    issues: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def format_issue(issue: tuple[str, str]) -> str:
    """One line per issue, as the commands print them."""
    path, message = issue
    return f"{path}: {message}" if path else message


class _ShapeError(Exception):
    pass


def _measure(v: Any, depth: int, memo: dict[int, tuple[int, int]], open_: set[int]) -> tuple[int, int]:
    """(values, height) of ``v`` with aliases expanded; memoized, so shared nodes cost one visit."""
    if not isinstance(v, dict | list):
        return 1, 0
    key = id(v)
    if key in open_:
        raise _ShapeError("the pipeline contains itself (a YAML alias inside its own anchor)")
    if key not in memo:
        if depth >= MAX_DEPTH:
            raise _ShapeError(f"the pipeline nests more than {MAX_DEPTH} levels deep")
        open_.add(key)
        size, height = 1, 0
        for child in v.values() if isinstance(v, dict) else v:
            s, h = _measure(child, depth + 1, memo, open_)
            size, height = size + s, max(height, h + 1)
            if size > MAX_VALUES:
                raise _ShapeError(f"the pipeline holds more than {MAX_VALUES} values once YAML aliases are expanded")
        open_.discard(key)
        memo[key] = (size, height)
    size, height = memo[key]
    if depth + height > MAX_DEPTH:
        raise _ShapeError(f"the pipeline nests more than {MAX_DEPTH} levels deep")
    return size, height


def _shape_problem(raw: Any) -> str | None:
    try:
        size, _ = _measure(raw, 0, {}, set())
    except _ShapeError as err:
        return str(err)
    return None if size <= MAX_VALUES else f"the pipeline holds more than {MAX_VALUES} values"


_STAGE_RANK = re.compile(r"stages\[(\d+)\]")


def _by_stage(issues: Issues) -> Issues:
    """Groups issues by stage, top-level ones first, keeping their order within a group."""

    def rank(issue: tuple[str, str]) -> int:
        m = _STAGE_RANK.match(issue[0])
        return int(m.group(1)) if m else -1

    return sorted(issues, key=rank)


def validate_pipeline(raw: object, source: str = "") -> ValidationResult:
    """Checks a pipeline as loaded from YAML (or any value). ``source`` names it in nothing but the
    caller's own messages; issues carry paths inside the pipeline."""
    if not isinstance(raw, dict):
        problem = f"expected a pipeline object (id, name, stages); got {describe_value(raw)}"
        return ValidationResult(False, None, [("", problem)])
    shape = _shape_problem(raw)
    if shape is not None:
        return ValidationResult(False, None, [("", shape)])
    schema_issues: Issues = []
    config = PIPELINE(raw, "", schema_issues)
    checker = RefChecker()
    checker.check(raw)
    issues = _by_stage(schema_issues + checker.errors)
    if issues or config is None:
        return ValidationResult(False, None, issues, checker.warnings)
    return ValidationResult(True, config, [], checker.warnings)
