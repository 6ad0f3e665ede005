"""What a tool left running, found through /proc, and how to end it for certain.

A process group is not enough: Claude Code runs its Bash tool in a session of its own, so ``killpg`` on
the CLI leaves that shell running (measured, shared/notes/model-measurements.md §3). So a stop takes a
snapshot of every descendant (a ppid walk) *before* signalling, while the tree is still connected, and
after a tool exits on its own we also look for whoever still holds our stdout/stderr pipes. Every
process is remembered with its start time, so a pid that was reused meanwhile is never signalled.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    pgrp: int
    #: clock ticks since boot: with ``pid`` it names one process, even after the pid is reused
    start: int


def _read_stat(pid: int) -> tuple[Proc, str] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        state, ppid, pgrp, start = fields[0], int(fields[1]), int(fields[2]), int(fields[19])
    except (IndexError, ValueError):
        return None
    return Proc(pid, ppid, pgrp, start), state


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def procs() -> dict[int, Proc]:
    """Every live process we can see (zombies left out: they hold nothing and cannot be signalled)."""
    found: dict[int, Proc] = {}
    for pid in _all_pids():
        read = _read_stat(pid)
        if read is not None and read[1] not in "ZX":
            found[pid] = read[0]
    return found


def proc(pid: int) -> Proc | None:
    read = _read_stat(pid)
    return read[0] if read is not None and read[1] not in "ZX" else None


def descendants(root: int, table: dict[int, Proc]) -> list[Proc]:
    children: dict[int, list[Proc]] = {}
    for p in table.values():
        children.setdefault(p.ppid, []).append(p)
    found: list[Proc] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def group_members(pgid: int, not_before: int, table: dict[int, Proc]) -> list[Proc]:
    """Members of process group ``pgid`` started no earlier than its leader (``not_before``)."""
    return [p for p in table.values() if p.pgrp == pgid and p.start >= not_before]


def pipe_holders(inodes: Iterable[int], table: dict[int, Proc]) -> list[Proc]:
    """Processes holding an end of one of these pipes: whatever they are, we started them.

    Our own process and its direct children are left out: we hold the read ends, and a child we are
    forking for another stage holds copies of every fd for an instant before it execs.
    """
    targets = {f"pipe:[{inode}]" for inode in inodes}
    me = os.getpid()
    found: list[Proc] = []
    for p in table.values():
        if me in (p.pid, p.ppid):
            continue
        try:
            fds = os.listdir(f"/proc/{p.pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{p.pid}/fd/{fd}") in targets:
                    found.append(p)
                    break
            except OSError:
                continue
    return found


def is_alive(p: Proc) -> bool:
    now = proc(p.pid)
    return now is not None and now.start == p.start


def send(targets: Iterable[Proc], sig: signal.Signals) -> list[Proc]:
    """Signals each process that is still the one we saw; returns those signalled."""
    sent: list[Proc] = []
    for p in targets:
        if not is_alive(p):
            continue
        try:
            os.kill(p.pid, sig)
            sent.append(p)
        except (ProcessLookupError, PermissionError):
            pass
    return sent


async def wait_gone(targets: Iterable[Proc], timeout_s: float) -> list[Proc]:
    """Waits until every one has exited (a zombie counts as gone); returns those still alive."""
    left = [p for p in targets if is_alive(p)]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while left and loop.time() < deadline:
        await asyncio.sleep(0.01)
        left = [p for p in left if is_alive(p)]
    return left


def unique(*groups: Iterable[Proc]) -> list[Proc]:
    seen: dict[tuple[int, int], Proc] = {}
    for group in groups:
        for p in group:
            seen.setdefault((p.pid, p.start), p)
    return list(seen.values())


def _libc_prctl() -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(name, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Resolved once, in the parent: the preexec hook runs between fork and exec and must do no lookups.
_PRCTL = _libc_prctl()


def die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel send ``sig`` to the child when we die.

    A Celery hard time limit kills the worker with SIGKILL and no ``finally`` runs; without this the
    CLI (in its own session) and its tools would run on. SIGINT, because it makes Claude Code stop its
    tools too, where SIGTERM leaves them running (measured, model-measurements.md §3). The kernel sends
    it when the *thread* that forked exits: asyncio forks on the event loop's thread, which outlives
    every call it runs.
    """
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # We may have died between fork and prctl: then no signal will ever come.
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return hook
