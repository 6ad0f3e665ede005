"""The shape every agent-CLI adapter has. An adapter is a translation boundary: it builds the tool's
argv and maps the tool's own output to our deltas; nothing tool-specific leaks past it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ...types import FinishDelta, ModelRequest, TextDelta

QUOTE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Invocation:
    #: a bare name (looked up on PATH) or a path
    program: str
    args: list[str]
    stdin: str
    #: name in messages, e.g. "claude" or 'command "./tool.sh"'
    label: str
    #: extra environment for the child, on top of the parent's
    env: dict[str, str] = field(default_factory=dict)
    #: how to get the tool, for the not-found error
    install_hint: str = ""


@dataclass(frozen=True, slots=True)
class ToolFailure:
    """A failure the tool reported in its own output (not just an exit code)."""

    message: str
    retryable: bool = False


class MalformedLineError(Exception):
    """A stdout line the adapter cannot read; the provider turns it into a ProviderProtocolError."""


class Translator(Protocol):
    def push(self, item: str, line_no: int) -> list[TextDelta]:
        """One non-blank stdout line (or a decoded block, for ``command``) → the text it carries."""
        ...

    def failure(self) -> ToolFailure | None:
        """The tool's own error report, if it printed one."""
        ...

    def missing(self) -> str | None:
        """What a complete run prints last and this one did not (e.g. "no result line"), if anything."""
        ...

    def end(self) -> FinishDelta:
        """After a clean exit: usage, cost, finish reason."""
        ...


class Adapter(Protocol):
    tool: str
    output: Literal["lines", "chunks"]

    def invocation(self, request: ModelRequest, env: Mapping[str, str]) -> Invocation: ...

    def translator(self) -> Translator: ...


def parse_json_line(tool: str, line: str, line_no: int) -> dict[str, Any]:
    """One JSON object, or a MalformedLineError that quotes the line and names its number."""
    try:
        value = json.loads(line)
    except ValueError:
        raise MalformedLineError(f"{tool} printed a line that is not JSON at line {line_no}: {quote(line)}") from None
    if not isinstance(value, dict):
        raise MalformedLineError(f"{tool} printed a line that is not a JSON object at line {line_no}: {quote(line)}")
    return value


def quote(line: str) -> str:
    return json.dumps(f"{line[:QUOTE_CHARS]}…" if len(line) > QUOTE_CHARS else line, ensure_ascii=False)


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value < 0:
        return None
    return value


def count(value: object) -> int:
    n = num(value)
    return int(n) if n is not None else 0


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def retryable_status(status: float | None) -> bool:
    """Model-API statuses worth another attempt, as reported inside a tool's error result."""
    return status is not None and (status in (408, 409, 429) or status >= 500)


def option(flag: str, value: str) -> str:
    """``--flag=value`` as one argument: a value from a pipeline file can never be read as another option,
    and a variadic option (``--allowedTools <tools...>``) cannot swallow what follows it."""
    return f"{flag}={value}"


def with_system(request: ModelRequest) -> str:
    """For tools without a system-prompt option: the stage's system text leads the message."""
    return f"{request.system}\n\n{request.prompt}" if request.system else request.prompt
