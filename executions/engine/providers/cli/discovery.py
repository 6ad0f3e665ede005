"""Which agent CLIs are installed and runnable, for the Django check and the portal's run form.

Probes the fixed list in ``tools.AGENT_TOOLS`` only, each with ``<tool> --version`` and a short timeout:
discovery never runs a program it was not built to know. Results are cached for a little while, since
a page render may ask.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ...errors import CLINotFoundError
from .tools import AGENT_TOOLS, agent_program, resolve_program

VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?")


@dataclass(frozen=True, slots=True)
class ToolStatus:
    installed: bool
    path: str | None = None
    version: str | None = None
    #: installed but unusable (exit code, no answer), or how to install it when missing
    error: str | None = None

    @property
    def runnable(self) -> bool:
        return self.installed and self.error is None


_cache: tuple[float, tuple[tuple[str, str], ...], dict[str, ToolStatus]] | None = None
_lock = threading.Lock()


def installed_tools(
    env: Mapping[str, str] | None = None, *, timeout_s: float = 5.0, max_age_s: float = 30.0
) -> dict[str, ToolStatus]:
    """``{"claude": ToolStatus(...), "opencode": ..., "gemini": ...}``; probes run in parallel."""
    global _cache
    env = dict(os.environ if env is None else env)
    key = tuple(sorted((k, v) for k, v in env.items() if k == "PATH" or k.startswith("STAGECAST_")))
    with _lock:
        if _cache is not None and _cache[1] == key and time.monotonic() - _cache[0] < max_age_s:
            return dict(_cache[2])
    with ThreadPoolExecutor(max_workers=len(AGENT_TOOLS)) as pool:
        futures = {name: pool.submit(probe, name, env, timeout_s) for name in AGENT_TOOLS}
        result = {name: future.result() for name, future in futures.items()}
    with _lock:
        _cache = (time.monotonic(), key, result)
    return dict(result)


def probe(name: str, env: Mapping[str, str], timeout_s: float) -> ToolStatus:
    tool = AGENT_TOOLS[name]
    try:
        path = resolve_program(agent_program(name, env), env, name)
    except CLINotFoundError:
        configured = agent_program(name, env)
        if configured != name:
            return ToolStatus(False, error=f"{configured} (from {tool.path_env}) does not exist or is not executable")
        return ToolStatus(False, error=f"not found; {tool.install_hint()}")
    try:
        proc = subprocess.Popen(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tempfile.gettempdir(),
            env=dict(env),
            start_new_session=True,
        )
    except OSError as err:
        return ToolStatus(True, path, error=f"could not start: {err.strerror or err}")
    try:
        out, err_out = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return ToolStatus(True, path, error=f"--version gave no answer within {timeout_s:g} s")
    if proc.returncode != 0:
        how = f"exited with code {proc.returncode}" if proc.returncode > 0 else f"was killed ({-proc.returncode})"
        tail = err_out.decode("utf-8", "replace").strip().splitlines()[-3:]
        return ToolStatus(True, path, error=f"--version {how}" + (f": {' '.join(tail)}" if tail else ""))
    return ToolStatus(True, path, parse_version(out.decode("utf-8", "replace")))


def parse_version(output: str) -> str:
    """``2.1.330 (Claude Code)`` → ``2.1.330``; output without a version number is shown as printed."""
    match = VERSION.search(output)
    if match:
        return match.group(0)
    first = output.strip().splitlines()[0].strip()[:80] if output.strip() else ""
    return first or "(no version printed)"
