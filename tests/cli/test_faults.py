"""Faults of an agent CLI: it crashes, hangs past the stage's timeout, prints garbage, a line that never
ends, or no result line. Each ends with a clear error that carries the tool's last stderr lines; the
text printed before is kept; the tool is gone."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from executions.engine.errors import CLIExitError, CLIToolError, ProviderProtocolError
from executions.engine.providers.cli import cli_provider
from executions.engine.types import ModelRequest, TextDelta
from tests.cli.harness import FIXTURES, Sandbox, base_path, drain, is_gone, text_of

LINES = (FIXTURES / "claude-unicode.jsonl").read_text(encoding="utf-8").splitlines()


def claude(box: Sandbox, fixture_lines: list[str] | None = None, **env: str) -> tuple[Any, ModelRequest]:
    fixture = box.file("fixture.jsonl", "\n".join(fixture_lines if fixture_lines is not None else LINES) + "\n")
    model = {"provider": "cli", "tool": "claude"}
    full_env = {
        "PATH": base_path(),
        "STAGECAST_CLAUDE_PATH": str(box.stub("claude")),
        "REPLAY_FIXTURE": str(fixture),
        "REPLAY_PIDFILE": str(box.dir / "pid"),
        **env,
    }
    return cli_provider(model, env=full_env, kill_grace_s=0.3), ModelRequest(model=model, prompt="p", cwd=str(box.dir))


async def test_a_crash_mid_output_is_cli_exit_error_with_the_signal_and_stderr(box: Sandbox) -> None:
    provider, request = claude(box, LINES[:6], REPLAY_CRASH="1", REPLAY_STDERR="loading…\nabout to fail\n")
    items, error = await drain(provider.stream(request))
    assert items == [TextDelta("Grüße"), TextDelta(" — ")]
    assert isinstance(error, CLIExitError)
    assert (error.exit_code, error.signal_name) == (None, "SIGSEGV")
    assert str(error) == "claude was killed by SIGSEGV; last stderr lines:\nloading…\nabout to fail"
    assert is_gone(box.read_int("pid"))


async def test_a_hang_past_the_timeout_is_stopped_and_the_error_carries_the_stderr_tail(box: Sandbox) -> None:
    provider, request = claude(
        box, LINES[:6], REPLAY_HANG="1", REPLAY_IGNORE_SIGNALS="1", REPLAY_STDERR="retrying the API (3/10)\n"
    )
    got: list[str] = []

    async def stage() -> None:  # what the stage runner does with timeoutMs
        async with asyncio.timeout(0.8):
            async for delta in provider.stream(request):
                got.append(getattr(delta, "text", ""))

    with pytest.raises(TimeoutError) as caught:
        await stage()
    assert got == ["Grüße", " — "]
    # Cancellation's own error is asyncio's; the tool's last words ride along as a note on its cause.
    assert caught.value.__cause__ is not None
    assert caught.value.__cause__.__notes__ == ["claude was stopped; last stderr lines:\nretrying the API (3/10)"]
    assert is_gone(box.read_int("pid"))


async def test_garbage_after_some_text_is_a_protocol_error_and_the_tool_is_stopped(box: Sandbox) -> None:
    provider, request = claude(box, REPLAY_GARBAGE_AFTER="6", REPLAY_HANG="1", REPLAY_STDERR="proxy: 502\n")
    items, error = await drain(provider.stream(request))
    assert items == [TextDelta("Grüße"), TextDelta(" — ")]
    assert isinstance(error, ProviderProtocolError)
    assert str(error) == (
        'cli: claude printed a line that is not JSON at line 7: "<html>502 Bad Gateway</html> {{{"; '
        "last stderr lines:\nproxy: 502"
    )
    assert is_gone(box.read_int("pid"))


async def test_a_line_that_never_ends_is_capped_at_8_mib(box: Sandbox) -> None:
    provider, request = claude(box, LINES[:5], REPLAY_LONG_LINE=str(9 * 1024 * 1024), REPLAY_HANG="1")
    items, error = await drain(provider.stream(request))
    assert items == [TextDelta("Grüße")]
    assert isinstance(error, ProviderProtocolError)
    assert str(error) == (
        "cli: claude printed 8388608 bytes at line 6 without a line end; stopped it there; stderr was empty"
    )
    assert is_gone(box.read_int("pid"))


async def test_a_line_far_over_64_kib_is_read_whole(box: Sandbox) -> None:
    # Claude Code prints the whole answer again in its `assistant` and `result` lines: a long answer
    # makes lines of megabytes (the StreamReader default of 64 KiB failed on them, model-measurements §3).
    big = "ü" * (3 * 1024 * 1024)
    delta = json.loads(LINES[4])
    delta["event"]["delta"]["text"] = big
    result = json.loads(LINES[-1])
    result["result"] = big
    lines = [*LINES[:4], json.dumps(delta, ensure_ascii=False), *LINES[8:-1], json.dumps(result, ensure_ascii=False)]
    provider, request = claude(box, lines)
    items, error = await drain(provider.stream(request))
    assert error is None
    assert text_of(items) == big


async def test_no_result_line_is_a_tool_error_and_the_text_is_kept(box: Sandbox) -> None:
    provider, request = claude(box, LINES[:-1], REPLAY_STDERR="network: socket hang up\n")
    items, error = await drain(provider.stream(request))
    assert text_of(items) == "Grüße — 日本語\n🎉 done"
    assert isinstance(error, CLIToolError)
    assert str(error) == (
        "claude reported an error (exit code 0): its output ended without a result line; "
        "last stderr lines:\nnetwork: socket hang up"
    )


async def test_a_retryable_api_status_in_the_result_is_a_retryable_tool_error(box: Sandbox) -> None:
    result = json.loads((FIXTURES / "claude-error-400.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    result.update(api_error_status=529, result="Overloaded")
    provider, request = claude(box, [LINES[0], json.dumps(result)], REPLAY_EXIT="1")
    items, error = await drain(provider.stream(request))
    assert items == []
    assert isinstance(error, CLIToolError)
    assert error.retryable
    assert str(error) == "claude reported an error (exit code 1): API 529: Overloaded"
