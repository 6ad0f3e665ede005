"""Real processes for the integration tests: a private redis-server, Daphne and a Celery worker.

Each test session starts its own Redis on a free port (never the machine's shared one), and the
worker and Daphne run as real subprocesses against the test database, exactly as in production.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"{what} did not listen on {port} within {timeout} s")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


class RedisServer:
    """A private redis-server on a free port, keeping nothing on disk, that a fault test may kill and
    start again on the same port (as a real Redis restart loses everything not persisted)."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed: scripts/setup.sh installs Debian's redis-server")
        self.exe = exe
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="stagecast-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, what="redis-server")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop(self.proc, sig)

    def restart(self, *, down_s: float = 0.0, sig: int = signal.SIGKILL) -> None:
        """Kills Redis (SIGKILL: no goodbye to its clients), keeps the port closed for ``down_s``, then
        starts an empty one on the same port."""
        self.stop(sig)
        if down_s:
            time.sleep(down_s)  # an outage of a given length is the fault itself, not a wait for a signal
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A private redis-server on a free port, keeping nothing on disk; yields its URL."""
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.close()


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # The real settings module: tests/settings.py strips model keys, which the worker must get.
    env["DJANGO_SETTINGS_MODULE"] = "pipelines_site.settings"
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_worker(
    env: dict[str, str], *, concurrency: int = 2, log_path: Path | None = None, beat: bool = True
) -> subprocess.Popen[bytes]:
    """A real Celery worker (prefork, with the embedded beat that reaps dead runs); returns once ready."""
    log_path = log_path or Path(tempfile.mkstemp(prefix="stagecast-worker-", suffix=".log")[1])
    beat_args = ["-B", "-s", str(log_path.with_suffix(".beat"))] if beat else []
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "pipelines_site",
            "worker",
            "-P",
            "prefork",
            "-c",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            *beat_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        if b" ready." in log_path.read_bytes():
            return proc
        time.sleep(0.05)
    stop(proc)
    raise TimeoutError(f"celery worker not ready in 30 s:\n{log_path.read_text()[-3000:]}")


def start_daphne(env: dict[str, str], port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    port = port or free_port()
    log_path = Path(tempfile.mkstemp(prefix="stagecast-daphne-", suffix=".log")[1])
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "pipelines_site.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = log_path  # type: ignore[attr-defined]
    wait_for_port(port, proc, what="daphne")
    return proc, port


def worker_children(worker: subprocess.Popen[bytes]) -> list[int]:
    """The prefork pool's child pids (the processes that run tasks)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(worker.pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
