"""Which agent CLIs are installed and runnable: ``installed_tools()`` and the Django system check."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from executions.engine.providers.cli import ToolStatus, discovery, installed_tools, tools
from tests.cli.harness import Sandbox, base_path


@pytest.fixture(autouse=True)
def isolated(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither this checkout's own tools dir nor an earlier test's cached answer may speak for this test.
    monkeypatch.setattr(tools, "PROJECT_TOOLS_BIN", box.mkdir("no-project-tools"))
    monkeypatch.setattr(discovery, "_cache", None)


def stubs(box: Sandbox) -> dict[str, str]:
    """claude answers its version, gemini fails, opencode is missing."""
    return {
        "PATH": base_path(box.mkdir("empty-bin")),
        "STAGECAST_CLAUDE_PATH": str(box.stub("claude", REPLAY_VERSION="2.1.330 (Claude Code)")),
        "STAGECAST_GEMINI_PATH": str(box.stub("gemini", REPLAY_EXIT="41", REPLAY_STDERR="no auth configured\n")),
    }


def test_installed_runnable_broken_and_missing(box: Sandbox) -> None:
    env = stubs(box)
    assert installed_tools(env, max_age_s=0) == {
        "claude": ToolStatus(True, env["STAGECAST_CLAUDE_PATH"], "2.1.330"),
        "opencode": ToolStatus(
            False, error="not found; install opencode (npm install -g opencode-ai) or set STAGECAST_OPENCODE_PATH"
        ),
        "gemini": ToolStatus(
            True, env["STAGECAST_GEMINI_PATH"], error="--version exited with code 41: no auth configured"
        ),
    }


def test_a_tool_that_never_answers_times_out(box: Sandbox) -> None:
    env = {"PATH": base_path(), "STAGECAST_CLAUDE_PATH": str(box.stub("claude", REPLAY_HANG="1"))}
    status = installed_tools(env, timeout_s=0.5, max_age_s=0)["claude"]
    assert status == ToolStatus(True, env["STAGECAST_CLAUDE_PATH"], error="--version gave no answer within 0.5 s")


def test_a_configured_path_that_does_not_exist_says_so(box: Sandbox) -> None:
    env = {"PATH": base_path(), "STAGECAST_OPENCODE_PATH": str(box.dir / "nope")}
    status = installed_tools(env, max_age_s=0)["opencode"]
    assert status == ToolStatus(
        False, error=f"{box.dir / 'nope'} (from STAGECAST_OPENCODE_PATH) does not exist or is not executable"
    )


def test_found_on_path_and_the_answer_is_cached(box: Sandbox) -> None:
    on_path = box.stub("opencode", directory="on-path", REPLAY_VERSION="opencode 0.15.2")
    env = {"PATH": base_path(on_path.parent)}
    assert installed_tools(env)["opencode"] == ToolStatus(True, str(on_path), "0.15.2")
    on_path.unlink()
    assert installed_tools(env)["opencode"].installed  # cached
    assert not installed_tools(env, max_age_s=0)["opencode"].installed


def test_the_system_check_reports_each_cli_without_failing(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in stubs(box).items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    call_command("check", stdout=out, stderr=err)  # raises SystemCheckError on any error
    report = out.getvalue() + err.getvalue()
    claude = Path(box.dir, "bin", "claude")
    assert f"(executions.I001) Claude Code 2.1.330 is installed at {claude}." in report
    assert "(executions.I002) opencode is not installed: stages with `tool: opencode` cannot run here." in report
    assert "(executions.W001) Gemini CLI at " in report
    assert "does not run: --version exited with code 41: no auth configured." in report
