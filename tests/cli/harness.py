"""Test-side helpers for the replay stub (tests/fixtures/cli/replay.py): a sandbox per test, a FIFO gate
that releases the stub's output one line at a time, and a liveness check for the kill tests."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from executions.engine.types import Delta

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cli"
REPLAY = FIXTURES / "replay.py"
PF_EXITING = 0x4


def base_path(*first: str | Path) -> str:
    return os.pathsep.join([*map(str, first), "/usr/bin", "/bin"])


class FifoGate:
    """Holds the write end of a FIFO the stub reads one byte from before each line it prints."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        # O_RDWR never blocks on a FIFO, so the test can open it before the stub exists.
        self._fd: int | None = os.open(path, os.O_RDWR)
        self.released = 0

    def release_to(self, line: int) -> None:
        """Lets the stub print up to line ``line`` (1-based) in all."""
        if line > self.released and self._fd is not None:
            os.write(self._fd, b"x" * (line - self.released))
            self.released = line

    def close(self) -> None:
        """EOF for the stub: it prints everything that is left."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.dir = root
        self._gates: list[FifoGate] = []

    def file(self, name: str, content: str | bytes | None = None) -> Path:
        path = self.dir / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        return path

    def mkdir(self, name: str) -> Path:
        path = self.dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stub(self, name: str = "tool", directory: str = "bin", **env: str) -> Path:
        """An executable that runs the replay stub with this interpreter (``exec``: the pid stays),
        with ``env`` (REPLAY_* settings of its own) exported first."""
        path = self.mkdir(directory) / name
        exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())
        path.write_text(f"#!/bin/sh\n{exports}exec '{sys.executable}' '{REPLAY}' \"$@\"\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    def gate(self) -> FifoGate:
        gate = FifoGate(self.dir / f"gate-{len(self._gates)}")
        self._gates.append(gate)
        return gate

    def read_json(self, name: str) -> Any:
        return json.loads((self.dir / name).read_text(encoding="utf-8"))

    def read_int(self, name: str) -> int:
        return int((self.dir / name).read_text(encoding="utf-8"))

    def close(self) -> None:
        for gate in self._gates:
            gate.close()


def is_gone(pid: int) -> bool:
    """True when the process no longer runs: gone, a zombie nobody reaped (PID 1 here may never reap),
    or already inside exit() (the kernel sets PF_EXITING before it closes the pipes we watch)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0] in ("Z", "X") or bool(int(fields[6]) & PF_EXITING)


def group_alive(pgid: int) -> list[int]:
    """Live members of process group ``pgid``."""
    alive = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid and not is_gone(int(name)):
            alive.append(int(name))
    return alive


async def drain(stream: AsyncIterator[Delta]) -> tuple[list[Delta], BaseException | None]:
    items: list[Delta] = []
    try:
        async for delta in stream:
            items.append(delta)
    except Exception as err:  # noqa: BLE001 - the test inspects it
        return items, err
    return items, None


def text_of(items: list[Delta]) -> str:
    return "".join(getattr(d, "text", "") for d in items)
