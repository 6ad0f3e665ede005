"""The ``cli`` provider: a stage's model is an agent CLI (Claude Code, opencode, Gemini CLI) or any
program. Dispatches on ``model.tool`` to one adapter per tool; the adapters translate each tool's own
output, ``process`` runs the child, and this module turns exits and silences into stage errors."""

from __future__ import annotations

import asyncio
import codecs
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping

from ...errors import CLIExitError, CLIToolError, ProviderConfigError, ProviderProtocolError
from ...types import Delta, ModelConfig, ModelRequest
from .adapter import Adapter, Invocation, MalformedLineError
from .claude import ClaudeAdapter
from .command import CommandAdapter
from .gemini import GeminiAdapter
from .opencode import OpencodeAdapter
from .process import DEFAULT_KILL_GRACE_S, MAX_LINE_BYTES, ChildProcess, LineTooLongError
from .tools import resolve_program

# The server's own secrets: a tool (an agent with a Bash tool, any program) has no business with them.
SERVER_SECRETS = frozenset({"SECRET_KEY", "DATABASE_URL", "REDIS_URL"})

ADAPTERS: dict[str, Adapter] = {
    "claude": ClaudeAdapter(),
    "opencode": OpencodeAdapter(),
    "gemini": GeminiAdapter(),
    "command": CommandAdapter(),
}


def adapter_for(model: ModelConfig) -> Adapter:
    tool = model.get("tool")
    if not isinstance(tool, str) or tool not in ADAPTERS:
        raise ProviderConfigError(f"cli: model.tool must be one of {', '.join(ADAPTERS)}")
    return ADAPTERS[tool]


class CLIProvider:
    """Streams one stage through an agent CLI. ``env`` (default: ``os.environ`` at each call) is where
    the tools are looked up and what the child inherits; ``kill_grace_s`` is SIGINT → SIGKILL."""

    name = "cli"

    def __init__(
        self,
        model: ModelConfig,
        *,
        env: Mapping[str, str] | None = None,
        kill_grace_s: float = DEFAULT_KILL_GRACE_S,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        adapter_for(model)  # a wrong tool is a config error at once, not at the first call
        self._env = env
        self._grace_s = kill_grace_s
        self._max_line = max_line_bytes

    async def stream(self, request: ModelRequest) -> AsyncIterator[Delta]:
        adapter = adapter_for(request.model)
        base = os.environ if self._env is None else self._env
        env = {k: v for k, v in base.items() if k.removesuffix("_FILE") not in SERVER_SECRETS}
        invocation = adapter.invocation(request, env)
        label = invocation.label
        program = resolve_program(invocation.program, env, label, invocation.install_hint)
        child_env = {**env, **invocation.env}
        _check_nul(label, invocation, child_env)
        cwd, temp_dir = _work_dir(request, label)
        child: ChildProcess | None = None
        try:
            try:
                child = await ChildProcess.start(
                    [program, *invocation.args],
                    cwd=cwd,
                    env=child_env,
                    stdin=invocation.stdin.encode(),
                    grace_s=self._grace_s,
                )
            except OSError as err:
                raise ProviderConfigError(f"{label}: could not start {program}: {err.strerror or err}") from err
            translator = adapter.translator()
            wrote_text = False
            items = child.lines(self._max_line) if adapter.output == "lines" else _decoded(child.chunks())
            line_no = 0
            try:
                async for raw in items:
                    line_no += 1
                    item = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                    # A blank line carries nothing in any tool's JSON lines (raw blocks are text: all kept).
                    if adapter.output == "lines" and not item.strip():
                        continue
                    for delta in translator.push(item, line_no):
                        wrote_text = True
                        yield delta
            except MalformedLineError as err:
                raise ProviderProtocolError("cli", f"{err}{_stderr_note(child.stderr_tail())}") from None
            except LineTooLongError as err:
                raise ProviderProtocolError(
                    "cli",
                    f"{label} printed {err.limit} bytes at line {err.line_no} without a line end; "
                    f"stopped it there{_stderr_note(child.stderr_tail())}",
                ) from None

            status = await child.finish()
            tail = child.stderr_tail()
            failure = translator.failure()
            if failure is not None:
                raise CLIToolError(
                    label, failure.message, exit_code=status.code, stderr_tail=tail, retryable=failure.retryable
                )
            if status.code != 0:
                raise CLIExitError(label, status.code, status.signal_name, tail)
            missing = translator.missing()
            if missing is not None:
                raise CLIToolError(label, missing, exit_code=0, stderr_tail=tail)
            if not wrote_text:
                raise ProviderProtocolError("cli", f"{label} printed no output (exit code 0){_stderr_note(tail)}")
            yield translator.end()
        except asyncio.CancelledError as err:
            # Cancel or the stage's timeout: the caller's error says what happened; this note says what
            # the tool said last (StageRunner may show ``__notes__`` of the timeout's cause).
            if child is not None:
                await child.stop()
                err.add_note(f"{label} was stopped{_stderr_note(child.stderr_tail())}")
            raise
        finally:
            # Reaped before anything propagates: cancel, errors and an early aclose() all end here.
            if child is not None:
                await child.stop()
            if temp_dir is not None:
                shutil.rmtree(temp_dir, ignore_errors=True)


async def _decoded(blocks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Raw output as text: a character split across two reads waits for its rest, never U+FFFD."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    async for block in blocks:
        if chunk := decoder.decode(block):
            yield chunk
    if rest := decoder.decode(b"", final=True):
        yield rest


def _work_dir(request: ModelRequest, label: str) -> tuple[str, str | None]:
    """The stage's own ``model.cwd``, else the executor's per-execution dir, else a fresh temp dir
    (removed afterwards): an agent never runs in the server's own checkout by accident."""
    named = request.model.get("cwd") or request.cwd
    if not named:
        temp = tempfile.mkdtemp(prefix="stagecast-cli-")
        return temp, temp
    cwd = os.path.abspath(str(named))
    if not os.path.isdir(cwd):
        raise ProviderConfigError(f"{label}: working directory {cwd} does not exist")
    return cwd, None


def _check_nul(label: str, invocation: Invocation, env: Mapping[str, str]) -> None:
    """The OS cannot pass a NUL byte in an argument or a variable. Name which, never its value (an
    environment value may be a key)."""
    for i, arg in enumerate(invocation.args, start=1):
        if "\0" in arg:
            raise ProviderConfigError(f"{label}: argument {i} contains a NUL byte, which a program cannot receive")
    for key, value in env.items():
        if "\0" in value or "\0" in key:
            raise ProviderConfigError(
                f"{label}: environment variable {key} contains a NUL byte, which a program cannot receive"
            )


def _stderr_note(tail: str) -> str:
    return f"; last stderr lines:\n{tail}" if tail else "; stderr was empty"
