"""Claude Code as a stage model: ``claude -p --output-format stream-json --verbose
--include-partial-messages``, prompt on stdin. Its stream-json lines:

- ``stream_event`` / ``content_block_delta`` (``text_delta``) → text, as each arrives;
- ``assistant`` → ignored: it repeats text already streamed (and carries synthetic error text);
- ``result`` → usage, ``total_cost_usd`` (the CLI's own figure), ``session_id``, ``stop_reason``;
  ``is_error`` or a subtype other than ``success`` → the tool's failure.

Flags checked against ``claude --help`` of 2.1.330 and 2.1.332 (v1 recorded the fixtures with 2.1.331).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ...types import FinishDelta, FinishReason, ModelRequest, TextDelta, Usage
from .adapter import (
    Invocation,
    ToolFailure,
    count,
    num,
    obj,
    option,
    parse_json_line,
    retryable_status,
    text,
)
from .tools import AGENT_TOOLS, agent_program

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}

# Text blocks of separate turns (e.g. around a tool call) would otherwise run together.
BLOCK_SEPARATOR = "\n\n"


class ClaudeAdapter:
    tool = "claude"
    output: Literal["lines", "chunks"] = "lines"

    def invocation(self, request: ModelRequest, env: Mapping[str, str]) -> Invocation:
        args = [
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--include-partial-messages",
            "--no-session-persistence",
            # No MCP servers from the user's config: a stage gets exactly the tools it lists.
            "--strict-mcp-config",
            # Anything not pre-approved is denied instead of waiting for a prompt nobody can answer.
            "--permission-mode",
            "dontAsk",
        ]
        model = request.model
        if model.get("model"):
            args.append(option("--model", str(model["model"])))
        if request.system:
            args.append(option("--system-prompt", request.system))
        # Only the listed tools exist (`--tools` takes bare names) and only they run unasked
        # (`--allowedTools` keeps patterns such as "Bash(git log *)").
        allowed = [str(t) for t in model.get("allowedTools") or []]
        if not allowed:
            args += ["--tools", ""]
        else:
            names = list(dict.fromkeys(t.split("(", 1)[0].strip() for t in allowed))
            args += [option("--tools", ",".join(names)), option("--allowedTools", ",".join(allowed))]
        return Invocation(
            program=agent_program("claude", env),
            args=args,
            stdin=request.prompt,
            label="claude",
            install_hint=AGENT_TOOLS["claude"].install_hint(),
        )

    def translator(self) -> ClaudeTranslator:
        return ClaudeTranslator()


class ClaudeTranslator:
    def __init__(self) -> None:
        self._blocks = 0
        self._block_open = False
        self._failure: ToolFailure | None = None
        self._result = False
        self._finish = FinishDelta("stop")
        self._session_id: str | None = None

    def push(self, item: str, line_no: int) -> list[TextDelta]:
        msg = parse_json_line("claude", item, line_no)
        self._session_id = text(msg.get("session_id")) or self._session_id
        # Subagents' streams carry a parent tool id; only the main conversation is the answer.
        if msg.get("parent_tool_use_id") is not None:
            return []
        kind = msg.get("type")
        if kind == "stream_event":
            return self._stream_event(obj(msg.get("event")))
        if kind == "result":
            self._on_result(msg)
        return []

    def _stream_event(self, event: dict[str, object]) -> list[TextDelta]:
        if event.get("type") == "content_block_start":
            self._block_open = obj(event.get("content_block")).get("type") == "text"
            return []
        if event.get("type") != "content_block_delta":
            return []
        delta = obj(event.get("delta"))
        chunk = text(delta.get("text")) if delta.get("type") == "text_delta" else None
        if not chunk:
            return []
        if self._block_open:
            self._block_open = False
            self._blocks += 1
            if self._blocks > 1:
                chunk = BLOCK_SEPARATOR + chunk
        return [TextDelta(chunk)]

    def _on_result(self, msg: dict[str, object]) -> None:
        self._result = True
        status = num(msg.get("api_error_status"))
        subtype = text(msg.get("subtype"))
        if msg.get("is_error") is True or (subtype is not None and subtype != "success"):
            raw = msg.get("errors")
            errors = [e for e in raw if isinstance(e, str)] if isinstance(raw, list) else []
            message = text(msg.get("result")) or "; ".join(errors) or f"run ended with {subtype or 'an error'}"
            if status:
                message = f"API {int(status)}: {message}"
            self._failure = ToolFailure(message, retryable_status(status))
            return
        u = obj(msg.get("usage"))
        usage = Usage(
            input_tokens=count(u.get("input_tokens")),
            output_tokens=count(u.get("output_tokens")),
            cache_read_tokens=count(u.get("cache_read_input_tokens")),
            cache_write_tokens=count(u.get("cache_creation_input_tokens")),
        )
        self._finish = FinishDelta(
            reason=STOP_REASONS.get(text(msg.get("stop_reason")) or "", "stop"),
            usage=usage if u else None,
            cost_usd=num(msg.get("total_cost_usd")),
            session_id=text(msg.get("session_id")) or self._session_id,
        )

    def failure(self) -> ToolFailure | None:
        return self._failure

    def missing(self) -> str | None:
        return None if self._result else "its output ended without a result line"

    def end(self) -> FinishDelta:
        return self._finish
