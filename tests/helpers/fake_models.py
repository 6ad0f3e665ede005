"""Fake Anthropic, OpenAI and Google model servers that speak the real streaming wire formats.

Each runs on 127.0.0.1 (a free port) in a background thread with its own asyncio loop, so sync tests,
async tests and other processes can all drive the real SDKs against it.

    server = FakeModelServer("anthropic").start()        # or use it as a context manager
    server.url        # what the SDK wants: Anthropic and Google the server root, OpenAI root + /v1
    server.enqueue(Script(deltas=["a", "b"]), Script(status=429, retry_after="2"))
    server.calls      # one Call per model request: request, script, sent deltas, client_closed_at …
    server.wait_sent(3) / await server.await_sent(3)        # delta 3 of the last call is on the wire
    server.wait_closed() / await server.await_closed()      # the client closed that call's connection
    server.stop()

Which script answers a model call: an ``x-fake-script: <name or spec>`` header, else a ``[fake:<name or
spec>]`` marker anywhere in the request body (the prompt), else — for streaming calls only, so the side
calls Claude Code makes do not eat a test's script — the next enqueued one, else ``server.default``
(a Script or a function of the RecordedRequest). Names are registered with ``name_script``; any other
name is parsed as a spec: ``Script.parse("deltas=5,interval_ms=20,status=429,retry_after=2")``.

As a process: ``python -m tests.helpers.fake_models --port 0 --kind anthropic --deltas 50 --interval-ms 20``
prints its URL on the first line, then serves until SIGINT/SIGTERM (``--events``: one JSON line per
request, delta and close on stdout, with epoch timestamps).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from tests.helpers.fake_script import DEFAULT_DELTAS, Call, FakeUsage, Gate, RecordedRequest, Script, SentDelta
from tests.helpers.fake_serve import Responder
from tests.helpers.fake_wire import WIRES, Wire

__all__ = ["Call", "FakeModelServer", "FakeUsage", "Gate", "RecordedRequest", "Script", "SentDelta"]

MARKER = re.compile(rb"\[fake:([^\]\"\\]+)\]")
DefaultScript = Script | Callable[[RecordedRequest], Script]


class FakeModelServer:
    def __init__(
        self,
        kind: str = "anthropic",
        *,
        default: DefaultScript | None = None,
        port: int = 0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.kind = kind
        self.wire: Wire = WIRES[kind]()
        self.default: DefaultScript = default or Script()
        self.requests: list[RecordedRequest] = []
        self.calls: list[Call] = []
        self._queue: deque[Script] = deque()
        self._named: dict[str, Script] = {}
        self._on_event = on_event
        self._port = port
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        #: the connections being served, cancelled by stop()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.origin = ""
        self._server: asyncio.Server | None = None
        self._responder = Responder(self)

    # --- lifecycle (any thread) ----------------------------------------------------------------------

    def start(self) -> FakeModelServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                server = loop.run_until_complete(asyncio.start_server(self._responder.serve, "127.0.0.1", self._port))
                self.origin = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            except BaseException as err:  # reported to the starting thread
                failure.append(err)
                ready.set()
                return
            self._server = server
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=f"fake-{self.kind}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.wire.base_url(self.origin)

    @property
    def port(self) -> int:
        return int(self.origin.rsplit(":", 1)[1])

    # --- scripting --------------------------------------------------------------------------------------

    def enqueue(self, *scripts: Script) -> None:
        self._queue.extend(scripts)

    def drop_queued(self) -> None:
        """Forgets the scripts no call has taken yet (a test sharing a long-lived server cleans up)."""
        self._queue.clear()

    def name_script(self, name: str, script: Script) -> None:
        self._named[name] = script

    def _script_named(self, name: str) -> Script:
        return self._named.get(name) or Script.parse(name)

    def pick_script(self, record: RecordedRequest, raw: bytes, streaming: bool) -> Script:
        if name := record.headers.get("x-fake-script"):
            return self._script_named(name)
        if match := MARKER.search(raw):
            return self._script_named(match[1].decode())
        if streaming and self._queue:
            return self._queue.popleft()
        return self.default(record) if callable(self.default) else self.default

    # --- waiting (sync from any thread; async from the test's loop) -----------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition") -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"fake {self.kind}: no {what} within {timeout} s")

    def _call(self, index: int) -> Call | None:
        try:
            return self.calls[index]
        except IndexError:
            return None

    def wait_calls(self, count: int, timeout: float = 5.0) -> None:
        self.wait_for(lambda: len(self.calls) >= count, timeout, f"{count} model calls")

    def wait_sent(self, count: int, call: int = -1, timeout: float = 5.0) -> None:
        """Until ``count`` deltas of call ``call`` (default: the latest) have been written to the socket."""
        self.wait_for(
            lambda: (c := self._call(call)) is not None and len(c.sent) >= count, timeout, f"{count} deltas sent"
        )

    def wait_closed(self, call: int = -1, timeout: float = 5.0) -> None:
        """Until the client has closed call ``call``'s connection before the response ended."""
        self.wait_for(
            lambda: (c := self._call(call)) is not None and c.client_closed_at is not None, timeout, "client close"
        )

    def wait_ended(self, call: int = -1, timeout: float = 5.0) -> None:
        self.wait_for(lambda: (c := self._call(call)) is not None and c.outcome is not None, timeout, "call end")

    async def await_calls(self, count: int, timeout: float = 5.0) -> None:
        await asyncio.to_thread(self.wait_calls, count, timeout)

    async def await_sent(self, count: int, call: int = -1, timeout: float = 5.0) -> None:
        await asyncio.to_thread(self.wait_sent, count, call, timeout)

    async def await_closed(self, call: int = -1, timeout: float = 5.0) -> None:
        await asyncio.to_thread(self.wait_closed, call, timeout)

    async def await_ended(self, call: int = -1, timeout: float = 5.0) -> None:
        await asyncio.to_thread(self.wait_ended, call, timeout)

    def notify(self, event: dict[str, Any] | None = None) -> None:
        """Called by the Responder (fake_serve.py) on every change: wakes the waiters, reports ``event``."""
        with self._cond:
            self._cond.notify_all()
        if event is not None and self._on_event is not None:
            self._on_event(event)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.fake_models", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=sorted(WIRES), default="anthropic")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--deltas", type=int, help="answer with N deltas 'tok0 ', 'tok1 ', … (default: a short text)")
    parser.add_argument("--interval-ms", type=float, default=0.0, help="wait between deltas")
    parser.add_argument("--first-delay-ms", type=float, default=0.0, help="wait before the first delta")
    parser.add_argument("--script", help="the default script as a spec, e.g. 'deltas=5,status=429'")
    parser.add_argument("--events", action="store_true", help="print a JSON line per request, delta and end")
    args = parser.parse_args(argv)
    if args.script:
        default = Script.parse(args.script)
    else:
        deltas = tuple(f"tok{i} " for i in range(args.deltas)) if args.deltas is not None else DEFAULT_DELTAS
        default = Script(deltas=deltas, interval_ms=args.interval_ms, first_delay_ms=args.first_delay_ms)
    lock = threading.Lock()

    def emit(event: dict[str, Any]) -> None:
        with lock:
            print(json.dumps(event), flush=True)

    serve_until_signalled(
        FakeModelServer(args.kind, default=default, port=args.port, on_event=emit if args.events else None)
    )


def serve_until_signalled(server: FakeModelServer) -> None:
    """A fake in a process of its own: starts it, prints its URL (the parent reads that line), serves until
    SIGINT or SIGTERM, then stops it and exits 0."""
    server.start()
    print(server.url, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
