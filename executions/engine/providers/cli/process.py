"""Runs one agent CLI (or a pipeline's own command) as a child process, for every tool alike.

- argv only, never a shell: nothing in a prompt or a pipeline file becomes a command or an option.
- The prompt goes to stdin, which is then closed: an argument is capped at 128 KiB by the kernel
  (MAX_ARG_STRLEN) and shows in ``ps``, and a prompt holding earlier stages' output can be far longer.
- ``start_new_session`` puts the tool in a group of its own; ``die_with_parent`` takes it along if the
  worker is killed outright.
- stdout is read in blocks as it arrives; lines are split here, so a line over the StreamReader's
  64 KiB default is fine while a line that never ends is capped (``MAX_LINE_BYTES``).
- Stopping (cancel, timeout, error): SIGINT to the group, a grace period, then SIGKILL to the group and
  to every descendant seen before the SIGINT, in whatever session it moved to (see ``proctree``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from . import proctree
from .proctree import Proc

READ_BLOCK = 64 * 1024
MAX_LINE_BYTES = 8 * 1024 * 1024
STDERR_LINES = 20
STDERR_LINE_CHARS = 500
STDERR_TAIL_CHARS = 4096
DEFAULT_KILL_GRACE_S = 1.5


class LineTooLongError(Exception):
    def __init__(self, line_no: int, limit: int) -> None:
        super().__init__(f"line {line_no} is longer than {limit} bytes with no line end")
        self.line_no = line_no
        self.limit = limit


@dataclass(frozen=True, slots=True)
class ExitStatus:
    #: None when a signal ended the process
    code: int | None
    signal_name: str | None


def _status(returncode: int) -> ExitStatus:
    if returncode >= 0:
        return ExitStatus(returncode, None)
    try:
        return ExitStatus(None, signal.Signals(-returncode).name)
    except ValueError:
        return ExitStatus(None, f"signal {-returncode}")


class StderrTail:
    """The last lines a tool wrote to stderr, for error messages. Bounded however much it writes."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=STDERR_LINES)
        self._partial = b""

    def feed(self, data: bytes) -> None:
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete[-STDERR_LINES:]:
            self._lines.append(self._clip(raw))
        if len(self._partial) > 64 * 1024:  # a line that never ends must not grow without bound
            self._partial = self._partial[-STDERR_LINE_CHARS:]

    def text(self) -> str:
        lines = list(self._lines)
        if self._partial:
            lines.append(self._clip(self._partial))
        return "\n".join(lines)[-STDERR_TAIL_CHARS:]

    @staticmethod
    def _clip(raw: bytes) -> str:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        return f"{line[:STDERR_LINE_CHARS]}…" if len(line) > STDERR_LINE_CHARS else line


class ChildProcess:
    """One running tool. Use ``start``, then ``lines()`` or ``chunks()``, then ``finish()``; always
    ``stop()`` in ``finally`` (idempotent; it is what cancel and errors rely on)."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        stdout: asyncio.StreamReader,
        pipes: tuple[int, int],
        transports: list[asyncio.BaseTransport],
        grace_s: float,
    ) -> None:
        self._proc = proc
        self._stdout = stdout
        self._pipes = pipes
        self._transports = transports
        self._grace_s = grace_s
        self._stderr = StderrTail()
        self._stopping = False
        self._leader = proctree.proc(proc.pid) or Proc(proc.pid, os.getpid(), proc.pid, 0)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int:
        return self._proc.pid

    @classmethod
    async def start(
        cls, argv: Sequence[str], *, cwd: str, env: Mapping[str, str], stdin: bytes, grace_s: float
    ) -> ChildProcess:
        """Starts ``argv`` (``argv[0]`` already resolved to a path). OSError/ValueError when it cannot."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pipes = (os.fstat(out_r).st_ino, os.fstat(err_r).st_ino)
        loop = asyncio.get_running_loop()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env),
                stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
                preexec_fn=proctree.die_with_parent(signal.SIGINT),
            )
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        try:
            stdout = asyncio.StreamReader(limit=READ_BLOCK, loop=loop)
            out_t, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stdout), os.fdopen(out_r, "rb", 0)
            )
            stderr = asyncio.StreamReader(limit=READ_BLOCK, loop=loop)
            err_t, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(stderr), os.fdopen(err_r, "rb", 0)
            )
        except BaseException:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise
        child = cls(proc, stdout, pipes, [out_t, err_t], grace_s)
        child._tasks = [
            asyncio.create_task(child._drain_stderr(stderr)),
            asyncio.create_task(child._write_stdin(stdin)),
            asyncio.create_task(child._watch_leader()),
        ]
        return child

    # --- reading ------------------------------------------------------------------------------------

    async def chunks(self) -> AsyncIterator[bytes]:
        """stdout as it arrives, in blocks of at most 64 KiB. Reads only when asked: a slow consumer
        fills the pipe and the tool waits, so memory stays bounded."""
        while block := await self._stdout.read(READ_BLOCK):
            yield block

    async def lines(self, max_line: int = MAX_LINE_BYTES) -> AsyncIterator[bytes]:
        """stdout split into lines (without ``\\n`` or a CR before it); the last may lack its ``\\n``."""
        buf = bytearray()
        line_no = 0
        async for block in self.chunks():
            scan_from = len(buf)
            buf += block
            start = 0
            while (end := buf.find(b"\n", max(start, scan_from))) >= 0:
                line_no += 1
                if end - start > max_line:
                    raise LineTooLongError(line_no, max_line)
                yield bytes(buf[start : end - 1 if end > start and buf[end - 1] == 13 else end])
                start = end + 1
            del buf[:start]
            if len(buf) > max_line:
                raise LineTooLongError(line_no + 1, max_line)
        if buf:
            yield bytes(buf)

    def stderr_tail(self) -> str:
        return self._stderr.text()

    async def finish(self) -> ExitStatus:
        """After stdout's end: waits for the tool to exit and anything it left behind to be gone."""
        await asyncio.gather(*self._tasks)
        assert self._proc.returncode is not None
        return _status(self._proc.returncode)

    # --- stopping -----------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Ends the tool and everything it started: SIGINT, the grace period, then SIGKILL."""
        if self._stopping:
            return
        self._stopping = True
        try:
            if self._proc.returncode is None:
                snapshot = self._tree()
                self._signal_group(signal.SIGINT)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._proc.wait()), self._grace_s)
                left = proctree.unique(snapshot, self._tree())
                self._signal_group(signal.SIGKILL)
                proctree.send(left, signal.SIGKILL)
                await self._proc.wait()
                await proctree.wait_gone(left, 1.0)
            else:
                await self._end_strays()
        except asyncio.CancelledError:
            # Cancelled again while stopping: no more grace for anyone.
            self._kill_now()
            raise
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            # A transport paused on a full buffer would never see EOF, and keep its fd, on its own.
            for transport in self._transports:
                transport.close()

    def _kill_now(self) -> None:
        self._signal_group(signal.SIGKILL)
        proctree.send(self._tree(), signal.SIGKILL)

    def _tree(self) -> list[Proc]:
        """Our descendants, our group, and any process holding our pipes — while they can be found."""
        table = proctree.procs()
        return proctree.unique(
            proctree.descendants(self._proc.pid, table),
            proctree.group_members(self._proc.pid, self._leader.start, table),
            proctree.pipe_holders(self._pipes, table),
        )

    def _signal_group(self, sig: signal.Signals) -> None:
        # Only while the leader is unreaped is its pid certainly still our group's id.
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)

    async def _end_strays(self) -> None:
        """The leader is gone: whatever it left in its group or on our pipes is an orphan by definition.
        SIGTERM, and SIGKILL after the grace (the leader no longer there to pass on a SIGINT)."""
        strays = self._tree()
        if not strays:
            return
        proctree.send(strays, signal.SIGTERM)
        left = await proctree.wait_gone(strays, self._grace_s)
        proctree.send(left, signal.SIGKILL)
        await proctree.wait_gone(left, 1.0)

    # --- background tasks ---------------------------------------------------------------------------

    async def _watch_leader(self) -> None:
        await self._proc.wait()
        if not self._stopping:
            await self._end_strays()

    async def _drain_stderr(self, stderr: asyncio.StreamReader) -> None:
        while block := await stderr.read(READ_BLOCK):
            self._stderr.feed(block)

    async def _write_stdin(self, data: bytes) -> None:
        pipe = self._proc.stdin
        if pipe is None:
            return
        # The tool may exit (or never read) before taking it all: that is its business, not an error.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            pipe.write(data)
            await pipe.drain()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            pipe.close()
