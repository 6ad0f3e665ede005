"""When the worker itself is killed outright (a Celery hard time limit is SIGKILL: no ``finally`` runs),
the CLI it started goes too: the kernel sends it SIGINT (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.harness import FIXTURES, Sandbox, base_path, is_gone

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import asyncio, os, sys
from executions.engine.providers.cli import cli_provider
from executions.engine.types import ModelRequest

async def main():
    model = {"provider": "cli", "tool": "claude"}
    stream = cli_provider(model).stream(ModelRequest(model=model, prompt="p", cwd=sys.argv[1]))
    await anext(stream)
    os.write(1, b"first delta\\n")
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_killed_worker_takes_the_cli_along(box: Sandbox) -> None:
    env = {
        "PATH": base_path(),
        "PYTHONPATH": str(ROOT),
        "STAGECAST_CLAUDE_PATH": str(box.stub("claude")),
        "REPLAY_FIXTURE": str(FIXTURES / "claude-unicode.jsonl"),
        "REPLAY_PIDFILE": str(box.dir / "pid"),
        "REPLAY_HANG": "1",
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(box.dir)], env=env, stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline() == b"first delta\n"
        cli = box.read_int("pid")
        assert not is_gone(cli)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(5)
        deadline = time.monotonic() + 5
        while not is_gone(cli) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert is_gone(cli)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
