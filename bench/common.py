"""What every benchmark shares: statistics, /proc readings of a process and the machine, and timing.

Process figures come straight from /proc (psutil is not a dependency): CPU time is ``utime + stime``
of ``/proc/<pid>/stat``, memory is ``VmRSS`` / ``VmHWM`` of ``/proc/<pid>/status``.
"""

from __future__ import annotations

import math
import os
import platform
import runpy
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")


def now() -> float:
    """Epoch seconds: the clock the fake model stamps its deltas with (``time.time()``)."""
    return time.time()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): a p99 is a sample that was really measured."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True)
class Stats:
    samples: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99), max(values))

    def to_json(self) -> dict[str, float]:
        return {"samples": self.samples, "p50": self.p50, "p95": self.p95, "p99": self.p99, "max": self.max}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    if n < 2:
        return math.nan
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return math.nan if sxx == 0 else sum((x - mx) * (y - my) for x, y in points) / sxx


# --- /proc ------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (its exited children not included)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return math.nan
    # The command name may hold spaces and parentheses: fields are counted after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def peak_rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmHWM")


def children(pid: int) -> list[int]:
    """Direct children (a Celery worker's pool processes)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float:
    """The share of all cores busy between two machine_cpu() readings (every process, ours included)."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else math.nan


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3)
    system = f"Linux {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} × {model}, {mem_gb} GB RAM, {system}"


def commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return head + (" + uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class ProcessMeter:
    """CPU and memory of one process over an interval, with its peak RSS sampled along the way."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu0 = cpu_seconds(pid)
        self.t0 = time.monotonic()
        self.rss_start_kb = rss_kb(pid)
        self.rss_peak_kb = self.rss_start_kb

    def sample(self) -> int:
        rss = rss_kb(self.pid)
        self.rss_peak_kb = max(self.rss_peak_kb, rss)
        return rss

    def cpu_s(self) -> float:
        return cpu_seconds(self.pid) - self.cpu0

    def elapsed_s(self) -> float:
        return time.monotonic() - self.t0


def run_alone(name: str) -> None:
    """``python -m bench.<name> [--quick] …`` is ``python -m bench <name> [--quick] …``.

    The suite's entry point is run as a script, not imported: it imports every benchmark, so a benchmark
    importing it would tie each one to all the others (tests/test_layout.py).
    """
    sys.argv[1:1] = [name]
    runpy.run_module("bench", run_name="__main__", alter_sys=True)
