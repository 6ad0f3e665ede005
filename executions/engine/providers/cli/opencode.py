"""opencode as a stage model: ``opencode run --format json``, prompt on stdin (opencode appends piped
stdin to the message). Its JSON events (sst/opencode ``packages/opencode/src/cli/cmd/run.ts``):

- ``text`` → one text delta per finished text part (opencode emits parts whole, not tokens);
- ``step_finish`` → tokens and cost, summed over the steps of a run;
- ``error`` → the tool's failure, with opencode's own message;
- ``step_start``, ``tool_use``, ``reasoning`` → ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from ...types import FinishDelta, FinishReason, ModelRequest, TextDelta, Usage
from .adapter import Invocation, ToolFailure, count, num, obj, option, parse_json_line, text, with_system
from .tools import AGENT_TOOLS, agent_program

FINISH: dict[str, FinishReason] = {"stop": "stop", "length": "length", "tool-calls": "tool-calls"}


class OpencodeAdapter:
    tool = "opencode"
    output: Literal["lines", "chunks"] = "lines"

    def invocation(self, request: ModelRequest, env: Mapping[str, str]) -> Invocation:
        args = ["run", "--format", "json"]
        # opencode names models provider/model, e.g. anthropic/claude-sonnet-4-5.
        if request.model.get("model"):
            args.append(option("--model", str(request.model["model"])))
        # Deny every tool unless the stage lists it (opencode's permission config: last match wins).
        permission = {"*": "deny"}
        for name in request.model.get("allowedTools") or []:
            permission[str(name)] = "allow"
        return Invocation(
            program=agent_program("opencode", env),
            args=args,
            # `run` has no system-prompt option.
            stdin=with_system(request),
            label="opencode",
            env={"OPENCODE_CONFIG_CONTENT": json.dumps({"permission": permission}, separators=(",", ":"))},
            install_hint=AGENT_TOOLS["opencode"].install_hint(),
        )

    def translator(self) -> OpencodeTranslator:
        return OpencodeTranslator()


class OpencodeTranslator:
    def __init__(self) -> None:
        self._parts = 0
        self._steps = 0
        self._failure: ToolFailure | None = None
        self._input = self._output = self._cache_read = self._cache_write = 0
        self._cost: float | None = None
        self._reason: FinishReason = "stop"
        self._session_id: str | None = None

    def push(self, item: str, line_no: int) -> list[TextDelta]:
        event = parse_json_line("opencode", item, line_no)
        self._session_id = text(event.get("sessionID")) or self._session_id
        part = obj(event.get("part"))
        kind = event.get("type")
        if kind == "text":
            chunk = text(part.get("text"))
            if not chunk:
                return []
            self._parts += 1
            return [TextDelta(f"\n\n{chunk}" if self._parts > 1 else chunk)]
        if kind == "step_finish":
            self._steps += 1
            tokens = obj(part.get("tokens"))
            cache = obj(tokens.get("cache"))
            self._input += count(tokens.get("input"))
            self._output += count(tokens.get("output")) + count(tokens.get("reasoning"))
            self._cache_read += count(cache.get("read"))
            self._cache_write += count(cache.get("write"))
            step_cost = num(part.get("cost"))
            if step_cost is not None:
                self._cost = (self._cost or 0.0) + step_cost
            self._reason = FINISH.get(text(part.get("reason")) or "", "stop")
        elif kind == "error":
            error = obj(event.get("error"))
            message = text(obj(error.get("data")).get("message")) or text(error.get("name")) or "unknown error"
            previous = self._failure.message + "\n" if self._failure else ""
            self._failure = ToolFailure(previous + message)
        return []

    def failure(self) -> ToolFailure | None:
        return self._failure

    def missing(self) -> str | None:
        return None if self._steps else "its output ended without a step_finish event"

    def end(self) -> FinishDelta:
        usage = Usage(self._input, self._output, self._cache_read, self._cache_write)
        return FinishDelta(self._reason, usage, self._cost, self._session_id)
