"""Starting a run from a pipeline's page: the form, its errors, and only installed agent tools."""

from __future__ import annotations

import pytest

from executions.engine.providers.cli import ToolStatus
from executions.models import Execution


@pytest.fixture
def tools(monkeypatch):
    """Which agent CLIs this "machine" has: opencode only."""
    installed = {
        "claude": ToolStatus(False, error="not found"),
        "opencode": ToolStatus(True, path="/usr/bin/opencode", version="1.0.0"),
        "gemini": ToolStatus(False, error="not found"),
    }
    monkeypatch.setattr("executions.portal.views.installed_tools", lambda: installed)
    return installed


def test_only_installed_tools_are_offered(people, tools):
    page = people.client(people.alice).get("/pipelines/summarize-critique/").content.decode()
    assert '<option value="opencode">opencode</option>' in page
    assert 'value="claude"' not in page and 'value="gemini"' not in page


def test_no_tool_select_when_none_is_installed(people, monkeypatch):
    monkeypatch.setattr("executions.portal.views.installed_tools", lambda: {})
    page = people.client(people.alice).get("/pipelines/summarize-critique/").content.decode()
    assert 'name="tool"' not in page
    assert "No agent CLI" in page


def test_a_run_starts_and_goes_to_its_page(people, tools):
    text = "\nline one <b>\r\nline two  "
    response = people.client(people.alice).post("/pipelines/summarize-critique/run", {"input": text, "mode": ""})
    execution = Execution.objects.get()
    assert (response.status_code, response["Location"]) == (303, f"/executions/{execution.id}/")
    assert execution.input == text
    assert execution.created_by == people.alice
    assert execution.status == "queued"
    assert [s.stage_id for s in execution.stages.order_by("index")] == ["summarize", "critique", "revise"]


def test_mode_and_tool_are_passed_on(people, tools):
    people.client(people.alice).post("/pipelines/summarize-critique/run", {"input": "x", "tool": "opencode"})
    execution = Execution.objects.get()
    assert (execution.mode, execution.tool) == ("cli", "opencode")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"input": ""}, "Type the input the pipeline should work on."),
        ({"input": "   \n "}, "The input is only blank space"),
        ({"input": "x", "mode": "quantum"}, "Select a valid choice. quantum is not one of the available choices."),
        ({"input": "x", "tool": "claude"}, "Select a valid choice. claude is not one of the available choices."),
        ({"input": "x", "mode": "api", "tool": "opencode"}, "An agent tool goes with mode cli, not api."),
        ({"input": "x", "mode": "cli"}, "Choose an agent tool: claude is not installed here (installed: opencode)."),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(people, tools, data, message):
    response = people.client(people.alice).post("/pipelines/summarize-critique/run", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Execution.objects.exists()
    # What was typed is kept, so nothing needs typing again.
    if data["input"].strip():
        assert f">\n{data['input']}</textarea>" in response.content.decode()


def test_an_unknown_pipeline_cannot_run(people, tools):
    response = people.client(people.alice).post("/pipelines/nope/run", {"input": "x"})
    assert response.status_code == 404


def test_running_needs_a_post(people, tools):
    assert people.client(people.alice).get("/pipelines/summarize-critique/run").status_code == 405
