"""An in-process Provider that plays scripts: one script per call, in call order.

A script is a list of steps: a ``str`` is a text delta, a :class:`Usage` a usage delta, a
:class:`FinishDelta` the finish, an exception instance is raised, a :class:`Gate` makes the provider
wait until the test opens it (and tells the test it got there). Tests wait on gates and events, never
on sleeps. The provider records every request and how each call ended, so a test can assert that a
cancel or timeout stopped the call (``CancelledError`` at the await, or ``GeneratorExit`` on close).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from executions.engine.types import Delta, FinishDelta, ModelConfig, ModelRequest, TextDelta, Usage, UsageDelta


class Gate:
    """A point in a script: ``reached`` is set when the provider gets there; it goes on after ``open()``."""

    def __init__(self, name: str = "gate") -> None:
        self.name = name
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    def open(self) -> None:
        self.opened.set()

    async def wait_reached(self) -> None:
        await self.reached.wait()


Step = str | Usage | FinishDelta | BaseException | Gate


@dataclass
class Script:
    steps: Sequence[Step]
    #: add ``FinishDelta("stop")`` when the steps end without one
    finish: bool = True


@dataclass
class CallRecord:
    request: ModelRequest
    #: how the call ended: "finished", "raised", "CancelledError", "GeneratorExit"
    ended: str = "running"
    ended_event: asyncio.Event = field(default_factory=asyncio.Event)


class ScriptedProvider:
    name = "scripted"

    def __init__(self, *scripts: Script | Sequence[Step]) -> None:
        self.scripts = [s if isinstance(s, Script) else Script(list(s)) for s in scripts]
        self.calls: list[CallRecord] = []
        self._called = asyncio.Event()

    async def wait_calls(self, count: int) -> None:
        """Until the provider has been called ``count`` times."""
        while len(self.calls) < count:
            self._called.clear()
            await self._called.wait()

    def add(self, *scripts: Script | Sequence[Step]) -> None:
        self.scripts += [s if isinstance(s, Script) else Script(list(s)) for s in scripts]

    @property
    def requests(self) -> list[ModelRequest]:
        return [c.request for c in self.calls]

    def resolver(self, model: ModelConfig) -> ScriptedProvider:
        return self

    def stream(self, request: ModelRequest) -> AsyncIterator[Delta]:
        if len(self.calls) >= len(self.scripts):
            raise AssertionError(f"unexpected model call #{len(self.calls) + 1}: {request.prompt!r}")
        script = self.scripts[len(self.calls)]
        record = CallRecord(request)
        self.calls.append(record)
        self._called.set()
        return self._play(script, record)

    async def _play(self, script: Script, record: CallRecord) -> AsyncIterator[Delta]:
        def end(how: str) -> None:
            record.ended = how
            record.ended_event.set()

        finished = False
        try:
            for step in script.steps:
                if isinstance(step, Gate):
                    step.reached.set()
                    await step.opened.wait()
                elif isinstance(step, str):
                    yield TextDelta(step)
                elif isinstance(step, Usage):
                    yield UsageDelta(step)
                elif isinstance(step, FinishDelta):
                    finished = True
                    yield step
                else:
                    end("raised")
                    raise step
            if script.finish and not finished:
                yield FinishDelta("stop")
            end("finished")
        except asyncio.CancelledError:
            end("CancelledError")
            raise
        except GeneratorExit:
            end("GeneratorExit")
            raise
