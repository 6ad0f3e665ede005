"""A valid pipeline for validation tests to break one thing at a time, and the issues as printed."""

from __future__ import annotations

import copy
from typing import Any

from executions.engine.validate import format_issue, validate_pipeline

_BASE: dict[str, Any] = {
    "id": "ok-pipe",
    "name": "OK",
    "defaults": {"model": {"provider": "local", "maxTokens": 64}},
    "stages": [
        {"id": "draft", "prompt": "Write about {{input}}"},
        {
            "id": "check",
            "prompt": "Check {{stages.draft.output}}",
            "output": {"format": "json", "extract": [{"name": "verdict", "path": "verdict"}]},
        },
        {
            "id": "final",
            "prompt": "Fix {{stages.draft.output}} per {{ stages.check.data.verdict }} ({{stages.check.status}})",
            "skipIf": {"path": "stages.check.data.verdict", "equals": "ok"},
        },
    ],
}


def base() -> dict[str, Any]:
    """A valid pipeline; each test breaks one thing."""
    return copy.deepcopy(_BASE)


def issues(raw: object) -> list[str]:
    result = validate_pipeline(raw, "test")
    assert result.ok == (not result.issues)
    return [format_issue(i) for i in result.issues]


def with_stage(i: int, **patch: Any) -> dict[str, Any]:
    p = base()
    p["stages"][i].update(patch)
    return p
