"""The rows of the agent-CLI contract suite (test_contract.py): one per tool, with what its fixture
must turn into. A new adapter is a new row here, not new tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from executions.engine.types import FinishDelta, Usage


@dataclass(frozen=True)
class Row:
    tool: str
    fixture: str
    #: (1-based line, or piece for raw output) → the text delta it carries
    texts: list[tuple[int, str]]
    finish: FinishDelta
    #: argv and stdin for a request with model "m-1", system "Be brief." and prompt "Say hi"
    argv: list[str]
    stdin: str
    #: what the provider adds to the child's environment for that request
    child_env: dict[str, str]
    #: replay raw bytes in pieces of this size instead of lines (the `command` tool)
    raw_split: int | None = None
    #: (fixture, exit code, texts before the failure, the error message without the stderr part)
    tool_error: tuple[str, int, list[str], str] | None = None
    malformed: bool = True
    missing_message: str = ""
    extra_model: dict[str, Any] = field(default_factory=dict)

    def model(self, stub: Path) -> dict[str, Any]:
        if self.tool == "command":
            return {"provider": "cli", "tool": "command", "command": [str(stub), "--x", "two words"]}
        return {"provider": "cli", "tool": self.tool}

    @property
    def path_env(self) -> str | None:
        return None if self.tool == "command" else f"STAGECAST_{self.tool.upper()}_PATH"


CLAUDE_400 = (
    "API 400: Prompt is too long · the request is ~999999 tokens (limit 200000) but this conversation is only "
    "~284 tokens — the rest is system prompt, tool definitions, and attachment content. A single-exchange "
    "conversation cannot be compacted; reduce attached files/tools or start with less context."
)

ROWS = [
    Row(
        tool="claude",
        fixture="claude-unicode.jsonl",
        texts=[(5, "Grüße"), (6, " — "), (7, "日本語\n"), (8, "🎉 done")],
        finish=FinishDelta("stop", Usage(12, 7, 0, 0), 0.000047, "33b2dadf-505a-4868-a95b-4244df464842"),
        argv=[
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--include-partial-messages",
            "--no-session-persistence",
            "--strict-mcp-config",
            "--permission-mode",
            "dontAsk",
            "--model=m-1",
            "--system-prompt=Be brief.",
            "--tools",
            "",
        ],
        stdin="Say hi",
        child_env={},
        tool_error=("claude-error-400.jsonl", 1, [], f"claude reported an error (exit code 1): {CLAUDE_400}"),
        missing_message=(
            "claude is not installed or not on PATH; install Claude Code (bash scripts/install-claude-code.sh, "
            "or npm install -g @anthropic-ai/claude-code) or set STAGECAST_CLAUDE_PATH"
        ),
    ),
    Row(
        tool="opencode",
        fixture="opencode-hello.jsonl",
        texts=[(2, "Let me check the numbers."), (6, "\n\n6 × 7 = 42 — the answer.")],
        finish=FinishDelta("stop", Usage(2450, 40, 1300, 50), 0.00031 + 0.00012, "ses_494719016ffe85dkDMj0FPRbHK"),
        argv=["run", "--format", "json", "--model=m-1"],
        stdin="Be brief.\n\nSay hi",
        # Every opencode tool denied: the stage lists none.
        child_env={"OPENCODE_CONFIG_CONTENT": '{"permission":{"*":"deny"}}'},
        tool_error=("opencode-error.jsonl", 1, [], "opencode reported an error (exit code 1): Invalid API key"),
        missing_message=(
            "opencode is not installed or not on PATH; install opencode (npm install -g opencode-ai) "
            "or set STAGECAST_OPENCODE_PATH"
        ),
    ),
    Row(
        tool="gemini",
        fixture="gemini-hello.jsonl",
        texts=[(3, "Hello"), (4, " from Gemini"), (5, " — ünïcode ✓\n")],
        finish=FinishDelta("stop", Usage(50, 7, 20, 0), None, "c8f0b3f2-9a4e-4f3d-8a57-0d1e2f3a4b5c"),
        argv=["-o", "stream-json", "--model=m-1"],
        stdin="Be brief.\n\nSay hi",
        child_env={},
        tool_error=(
            "gemini-error.jsonl",
            53,
            ["Partial"],
            "gemini reported an error (exit code 53): MaxSessionTurnsError: Maximum session turns exceeded",
        ),
        missing_message=(
            "gemini is not installed or not on PATH; install Gemini CLI (npm install -g @google/gemini-cli) "
            "or set STAGECAST_GEMINI_PATH"
        ),
    ),
    Row(
        tool="command",
        fixture="command-ansi.txt",
        raw_split=29,
        # The split falls inside "✗": its first byte waits for the rest instead of becoming U+FFFD.
        texts=[(1, "\x1b[1;34mPlan\x1b[0m: ready\n\x1b[31m"), (2, "✗ no\x1b[0m\n")],
        finish=FinishDelta("stop"),
        argv=["--x", "two words"],
        stdin="Say hi",
        child_env={"STAGECAST_SYSTEM_PROMPT": "Be brief.", "STAGECAST_MODEL": "m-1"},
        malformed=False,
    ),
]
