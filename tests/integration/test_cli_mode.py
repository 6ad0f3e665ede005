"""A CLI-mode run started through the API: the worker runs every stage through the real Claude Code
binary (pointed at the fake Anthropic server), and its text streams to the viewer delta by delta."""

from __future__ import annotations

import pytest

from executions.engine.providers.cli import installed_tools
from tests.helpers.integration import outputs_by_stage


def test_claude_stages_stream_through_the_worker(live):
    if not installed_tools().get("claude") or not installed_tools()["claude"].runnable:
        pytest.skip("Claude Code is not installed (scripts/install-claude-code.sh could not reach npm)")
    token = live.tokens["alice"]
    status, body = live.request(
        "POST",
        "/api/pipelines/live-test/run",
        token=token,
        body={
            "input": "[fake:text=Claude |says |hello |through |the |worker.,interval_ms=40]",
            "mode": "cli",
            "tool": "claude",
        },
    )
    assert status == 202, body
    events = live.sse(body["executionId"], token).start().wait(120).events
    assert events[-1]["type"] == "execution:completed", events[-1]
    assert events[-1]["result"]["status"] == "success"
    started = next(e for e in events if e["type"] == "execution:started")
    assert {s["provider"] for s in started["stages"]} == {"cli"}
    first_chunks = [e for e in events if e["type"] == "stage:output" and e["stageId"] == "first" and e["output"]]
    assert len(first_chunks) >= 3, "the text arrived in several deltas, not one blob"
    assert outputs_by_stage(events)["first"] == "Claude says hello through the worker."
