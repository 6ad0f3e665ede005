"""The real Claude Code CLI, through the provider, against the fake Anthropic server: text arrives in
several deltas before the stage ends, the final text is exact, usage and the CLI's own cost come back,
and a cancel stops the CLI and closes its request.

Claude Code is installed by scripts/install-claude-code.sh when it is not there yet; these tests skip
only when that could not install it (npm missing or the registry unreachable).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from executions.engine.providers.cli import cli_provider, proctree
from executions.engine.types import FinishDelta, ModelRequest, TextDelta
from tests.cli.harness import drain, is_gone, text_of
from tests.helpers.fake_models import FakeModelServer, FakeUsage, Gate, Script

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ROOT / ".stagecast" / "tools" / "node_modules" / ".bin" / "claude"
DELTAS = ("Grüße", " from", " the", " fake — ", "日本語 🎉")


def find_claude() -> str | None:
    configured = os.environ.get("STAGECAST_CLAUDE_PATH")
    if configured:
        return configured
    if INSTALLED.is_file():
        return str(INSTALLED)
    return shutil.which("claude")


@pytest.fixture(scope="session")
def claude_bin() -> str:
    found = find_claude()
    if found is None:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "install-claude-code.sh")], capture_output=True, text=True, timeout=900
        )
        found = find_claude()
        if found is None:
            pytest.skip(f"Claude Code could not be installed: {done.stdout.strip() or done.stderr.strip()}")
    return found


@pytest.fixture
def claude_env(claude_bin: str, fake_anthropic: FakeModelServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A sealed environment: its own HOME, the fake as its API, nothing sent anywhere else."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    yield {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "ANTHROPIC_BASE_URL": fake_anthropic.url,
        "ANTHROPIC_API_KEY": "dummy",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "STAGECAST_CLAUDE_PATH": claude_bin,
    }


def request_for(tmp_path: Path, prompt: str = "Say hello") -> ModelRequest:
    model = {"provider": "cli", "tool": "claude", "model": "claude-haiku-4-5"}
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return ModelRequest(model=model, prompt=prompt, system="Be brief.", cwd=str(work))


async def test_text_streams_delta_by_delta_then_exact_text_usage_and_cost(
    claude_env: dict[str, str], fake_anthropic: FakeModelServer, tmp_path: Path
) -> None:
    gate = Gate()
    fake_anthropic.enqueue(Script(deltas=DELTAS, gate=gate, usage=FakeUsage(input_tokens=12, output_tokens=7)))
    request = request_for(tmp_path)
    stream = cli_provider(request.model, env=claude_env).stream(request)
    for n, text in enumerate(DELTAS, start=1):
        gate.release()
        assert await asyncio.wait_for(anext(stream), 60) == TextDelta(text)
        # The server is held at its gate: this delta reached us while the answer was still unfinished.
        assert len(fake_anthropic.calls[-1].sent) == n
    rest = [delta async for delta in stream]
    assert len(rest) == 1 and isinstance(rest[0], FinishDelta)
    finish = rest[0]
    assert finish.reason == "stop"
    assert finish.usage is not None and (finish.usage.input_tokens, finish.usage.output_tokens) == (12, 7)
    assert finish.cost_usd is not None and finish.cost_usd > 0  # the CLI's own figure, from its price table
    assert finish.session_id and len(finish.session_id) == 36

    call = fake_anthropic.calls[-1]
    body = call.request.body
    assert body["model"] == "claude-haiku-4-5"
    assert call.request.api_key() == "dummy"
    assert "Be brief." in [block.get("text") for block in body["system"]]
    assert body.get("tools", []) == []  # `--tools ""`: a stage gets no tools it did not list
    assert "Say hello" in str(body["messages"])


async def test_allowed_tools_are_exactly_the_tools_the_model_is_offered(
    claude_env: dict[str, str], fake_anthropic: FakeModelServer, tmp_path: Path
) -> None:
    request = request_for(tmp_path, prompt="--help is not an option here: the prompt goes to stdin")
    model = {**request.model, "allowedTools": ["Bash(git log *)", "Read"]}
    items, error = await drain(cli_provider(model, env=claude_env).stream(ModelRequest(model, request.prompt)))
    assert error is None
    assert text_of(items) == "Hello from the fake."
    body = fake_anthropic.calls[-1].request.body
    assert [tool["name"] for tool in body["tools"]] == ["Bash", "Read"]
    assert "--help is not an option here" in str(body["messages"])


async def test_cancel_stops_the_real_cli_and_closes_its_request(
    claude_env: dict[str, str], fake_anthropic: FakeModelServer, tmp_path: Path
) -> None:
    fake_anthropic.enqueue(Script(deltas=tuple(f"tok{i} " for i in range(100)), interval_ms=50))
    request = request_for(tmp_path)
    first = asyncio.Event()
    got: list[Any] = []

    async def consume() -> None:
        async for delta in cli_provider(request.model, env=claude_env).stream(request):
            got.append(delta)
            first.set()

    # Only processes this test started count: earlier tests' leftovers are theirs to answer for.
    before = {p.pid for p in proctree.descendants(os.getpid(), proctree.procs())}
    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 60)
    clis = [p for p in proctree.descendants(os.getpid(), proctree.procs()) if p.pid not in before]
    assert clis, "the CLI runs as our child"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all(is_gone(p.pid) for p in clis)
    await fake_anthropic.await_closed()
    assert len(fake_anthropic.calls[-1].sent) < 100


async def test_latency_from_the_server_writing_a_delta_to_our_first_text_delta(
    claude_env: dict[str, str], fake_anthropic: FakeModelServer, tmp_path: Path
) -> None:
    """The figure the stage's time to first token adds over the model's own (printed; run with -s)."""
    latencies: list[float] = []
    for _ in range(10):
        fake_anthropic.enqueue(Script(deltas=DELTAS, first_delay_ms=100, interval_ms=20))
        request = request_for(tmp_path)
        stream = cli_provider(request.model, env=claude_env).stream(request)
        first = await asyncio.wait_for(anext(stream), 60)
        got_at = time.time()
        items, error = await drain(stream)
        assert error is None
        assert first == TextDelta(DELTAS[0]) and text_of([first, *items]) == "".join(DELTAS)
        # The server stamps a delta after its write drained, so a fast relay can read a hair below 0.
        latencies.append((got_at - fake_anthropic.calls[-1].sent[0].at) * 1000)
    latencies.sort()
    print(
        f"\nclaude first delta, server write → provider yield: median {statistics.median(latencies):.2f} ms, "
        f"min {latencies[0]:.2f}, max {latencies[-1]:.2f} (n={len(latencies)})"
    )
