"""Gemini CLI as a stage model: ``gemini -o stream-json``, prompt on stdin (run without a TTY it is
headless and takes piped stdin as the prompt; ``-p`` is deprecated upstream and would need the prompt
as an argument). Its JSON lines (google-gemini/gemini-cli ``packages/core/src/output/types.ts``):

- ``message`` with role ``assistant`` → text deltas as they arrive; the user echo is ignored;
- ``result`` → usage from ``stats``; ``status: "error"`` → the tool's failure;
- ``init`` (session id), ``tool_use``, ``tool_result``, ``error`` (non-fatal warnings) → no text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from ...types import FinishDelta, ModelRequest, TextDelta, Usage
from .adapter import Invocation, ToolFailure, count, obj, option, parse_json_line, text, with_system
from .tools import AGENT_TOOLS, agent_program


class GeminiAdapter:
    tool = "gemini"
    output: Literal["lines", "chunks"] = "lines"

    def invocation(self, request: ModelRequest, env: Mapping[str, str]) -> Invocation:
        args = ["-o", "stream-json"]
        if request.model.get("model"):
            args.append(option("--model", str(request.model["model"])))
        # Headless gemini runs no tool that needs approval; listed tools are pre-approved.
        allowed = [str(t) for t in request.model.get("allowedTools") or []]
        if allowed:
            args.append(option("--allowed-tools", ",".join(allowed)))
        return Invocation(
            program=agent_program("gemini", env),
            args=args,
            # gemini has no system-prompt option (only a GEMINI_SYSTEM_MD file that replaces its own).
            stdin=with_system(request),
            label="gemini",
            install_hint=AGENT_TOOLS["gemini"].install_hint(),
        )

    def translator(self) -> GeminiTranslator:
        return GeminiTranslator()


class GeminiTranslator:
    def __init__(self) -> None:
        self._failure: ToolFailure | None = None
        self._usage: Usage | None = None
        self._result = False
        self._wrote_text = False
        self._tool_since_text = False
        self._session_id: str | None = None

    def push(self, item: str, line_no: int) -> list[TextDelta]:
        event = parse_json_line("gemini", item, line_no)
        kind = event.get("type")
        if kind == "init":
            self._session_id = text(event.get("session_id"))
        elif kind == "message" and event.get("role") == "assistant":
            chunk = text(event.get("content"))
            if not chunk:
                return []
            # Text after a tool call is a new turn; keep it from running into the previous one.
            if self._wrote_text and self._tool_since_text:
                chunk = f"\n\n{chunk}"
            self._wrote_text = True
            self._tool_since_text = False
            return [TextDelta(chunk)]
        elif kind == "tool_result":
            self._tool_since_text = True
        elif kind == "result":
            self._on_result(event)
        return []

    def _on_result(self, event: dict[str, object]) -> None:
        self._result = True
        stats = obj(event.get("stats"))
        if stats:
            self._usage = Usage(
                input_tokens=count(stats.get("input_tokens")),
                output_tokens=count(stats.get("output_tokens")),
                cache_read_tokens=count(stats.get("cached")),
            )
        if event.get("status") == "error":
            error = obj(event.get("error"))
            message = text(error.get("message")) or "the run failed"
            kind = text(error.get("type"))
            self._failure = ToolFailure(f"{kind}: {message}" if kind else message)

    def failure(self) -> ToolFailure | None:
        return self._failure

    def missing(self) -> str | None:
        return None if self._result else "its output ended without a result line"

    def end(self) -> FinishDelta:
        return FinishDelta("stop", self._usage, None, self._session_id)
