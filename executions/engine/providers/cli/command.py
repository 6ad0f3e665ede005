"""Any program as a stage model: ``model.command`` is an argv list from the pipeline file (never a shell
string), the prompt goes to stdin, and stdout is the stage's text exactly as printed, partial lines and
ANSI colour codes included (the viewer's terminal view renders them)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from ...errors import ProviderConfigError
from ...types import FinishDelta, ModelRequest, TextDelta
from .adapter import Invocation, ToolFailure


class CommandAdapter:
    tool = "command"
    output: Literal["lines", "chunks"] = "chunks"

    def invocation(self, request: ModelRequest, env: Mapping[str, str]) -> Invocation:
        command = request.model.get("command")
        if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
            raise ProviderConfigError(
                "cli: tool `command` needs model.command, the program and its arguments as a list"
            )
        program, *args = command
        # A bare program has no place for system text in its stdin; it gets it from the environment.
        extra: dict[str, str] = {}
        if request.system:
            extra["STAGECAST_SYSTEM_PROMPT"] = request.system
        if request.model.get("model"):
            extra["STAGECAST_MODEL"] = str(request.model["model"])
        return Invocation(
            program=program,
            args=args,
            stdin=request.prompt,
            label=f"command {json.dumps(program, ensure_ascii=False)}",
            env=extra,
            install_hint="check the program named in the stage's model.command",
        )

    def translator(self) -> CommandTranslator:
        return CommandTranslator()


class CommandTranslator:
    def push(self, item: str, line_no: int) -> list[TextDelta]:
        return [TextDelta(item)] if item else []

    def failure(self) -> ToolFailure | None:
        return None

    def missing(self) -> str | None:
        return None

    def end(self) -> FinishDelta:
        return FinishDelta("stop")
