"""Cancel (the consumer's task cancelled, or the generator closed) stops the tool at once and leaves
nothing running: not the tool, not its process group, not a grandchild that moved to a session of its
own (as Claude Code's Bash tool does), whether or not it ignores SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from executions.engine.providers.cli import cli_provider
from executions.engine.types import Delta, ModelRequest, TextDelta
from tests.cli.harness import FIXTURES, Sandbox, base_path, drain, group_alive, is_gone, text_of

FIRST_LINE, FIRST_TEXT = 5, "Grüße"  # claude-unicode.jsonl


def claude_setup(box: Sandbox, grace_s: float = 0.3, **env: str) -> tuple[Any, ModelRequest]:
    model = {"provider": "cli", "tool": "claude"}
    full_env = {
        "PATH": base_path(),
        "STAGECAST_CLAUDE_PATH": str(box.stub("claude")),
        "REPLAY_FIXTURE": str(FIXTURES / "claude-unicode.jsonl"),
        "REPLAY_PIDFILE": str(box.dir / "pid"),
        **env,
    }
    provider = cli_provider(model, env=full_env, kill_grace_s=grace_s)
    return provider, ModelRequest(model=model, prompt="p", cwd=str(box.mkdir("w")))


async def start_and_get_first_delta(box: Sandbox, provider: Any, request: ModelRequest) -> asyncio.Task[None]:
    """Runs the stream in a task of its own (as the stage runner does) until its first delta."""
    first = asyncio.Event()
    got: list[Delta] = []

    async def consume() -> None:
        async for delta in provider.stream(request):
            got.append(delta)
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait({task, asyncio.create_task(first.wait())}, return_when=asyncio.FIRST_COMPLETED)
    assert got == [TextDelta(FIRST_TEXT)], task
    return task


@pytest.mark.parametrize(
    "variant",
    ["plain", "ignores-signals", "grandchild-shares-stdout", "grandchild-detached", "grandchild-ignores-signals"],
)
async def test_cancel_mid_stream_leaves_nothing_running(box: Sandbox, variant: str) -> None:
    gate = box.gate()
    env = {"REPLAY_GATE": str(gate.path)}
    if variant != "plain" and variant != "ignores-signals":
        env["REPLAY_GRANDCHILD"] = str(box.dir / "grandchild")
    if variant == "grandchild-detached":
        env["REPLAY_GRANDCHILD_DETACHED"] = "1"
    if variant in ("ignores-signals", "grandchild-ignores-signals"):
        env["REPLAY_IGNORE_SIGNALS"] = "1"
    ignores = "ignores" in variant
    provider, request = claude_setup(box, grace_s=0.3 if ignores else 3.0, **env)
    gate.release_to(FIRST_LINE)
    task = await start_and_get_first_delta(box, provider, request)
    pids = [box.read_int("pid")]
    if "REPLAY_GRANDCHILD" in env:
        pids.append(box.read_int("grandchild"))
    assert [is_gone(p) for p in pids] == [False] * len(pids)

    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    took = time.monotonic() - started

    assert [is_gone(p) for p in pids] == [True] * len(pids)
    assert group_alive(pids[0]) == []
    if ignores:
        assert 0.3 <= took < 3.0  # SIGINT ignored: SIGKILL after the grace period
    else:
        assert took < 2.5  # SIGINT honoured: it did not wait out its 3 s grace period


async def test_closing_the_generator_early_stops_the_tool(box: Sandbox) -> None:
    gate = box.gate()
    provider, request = claude_setup(box, REPLAY_GATE=str(gate.path))
    gate.release_to(FIRST_LINE)
    stream = provider.stream(request)
    assert await anext(stream) == TextDelta(FIRST_TEXT)
    pid = box.read_int("pid")
    await stream.aclose()  # what `break` out of `async for` plus the stage runner's aclose does
    assert is_gone(pid)
    assert group_alive(pid) == []


async def test_a_consumer_that_stops_early_with_the_pipe_full_leaves_nothing(box: Sandbox) -> None:
    # Far more output than a pipe and our buffer hold: the stub is blocked writing when we stop.
    line = '{"type":"message","role":"assistant","content":"y","delta":true}\n'
    model = {"provider": "cli", "tool": "gemini"}
    env = {
        "PATH": base_path(),
        "STAGECAST_GEMINI_PATH": str(box.stub("gemini")),
        "REPLAY_RAW": "1",
        "REPLAY_FIXTURE": str(box.file("many.jsonl", line * 100_000)),
        "REPLAY_PIDFILE": str(box.dir / "pid"),
    }
    stream = cli_provider(model, env=env, kill_grace_s=0.3).stream(ModelRequest(model=model, prompt="p"))
    seen = [await anext(stream) for _ in range(3)]
    await stream.aclose()
    assert seen == [TextDelta("y")] * 3
    assert is_gone(box.read_int("pid"))


async def test_a_process_left_running_after_a_clean_exit_is_ended_even_if_it_ignores_sigterm(box: Sandbox) -> None:
    # The grandchild keeps our stdout open in a session of its own: without the cleanup the stream
    # would never see its end.
    provider, request = claude_setup(box, REPLAY_GRANDCHILD=str(box.dir / "grandchild"), REPLAY_IGNORE_SIGNALS="1")
    items, error = await asyncio.wait_for(drain(provider.stream(request)), 10)
    assert error is None
    assert text_of(items) == "Grüße — 日本語\n🎉 done"
    assert is_gone(box.read_int("grandchild"))
