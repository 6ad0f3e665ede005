"""Small readers of event lists shared by the integration, e2e and fault tests."""

from __future__ import annotations

from typing import Any


def outputs_by_stage(events: list[dict[str, Any]]) -> dict[str, str]:
    """Each stage's text from its chunks; offsets are checked as they are applied."""
    texts: dict[str, str] = {}
    for event in events:
        if event["type"] == "stage:output":
            prefix = texts.get(event["stageId"], "") if event["offset"] else ""
            assert len(prefix) == event["offset"], (len(prefix), event)
            texts[event["stageId"]] = prefix + event["output"]
    return texts
