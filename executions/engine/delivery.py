"""Hands the executor's events to their sink in order, without stalling the stream.

A sync sink is called at once (the terminal, the publisher and the recorder only write or enqueue: no
extra hop on the per-chunk path). An async one is awaited by a drain task, and every event emitted while
it runs queues behind it, so the sink sees events in exactly the order they were made. The model stream only
waits when the backlog grows past ``backlog_limit`` (backpressure from a slow async consumer), and
the executor waits for the queue to empty at stage boundaries and before the run returns.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from executions.engine.secrets import mask_value
from executions.engine.wire import FINAL_EVENT_TYPES, make_event

log = logging.getLogger(__name__)


class CallbackError(Exception):
    """The event sink raised: the run cannot be reported, so it ends as failed."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(f"event sink {name} failed: {type(error).__name__}: {error}")
        self.error = error


class HookDelivery:
    def __init__(self, *, backlog_limit: int = 256) -> None:
        self._queue: deque[Callable[[], Any]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._backlog_limit = backlog_limit
        self.error: CallbackError | None = None

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        if self._task is not None:
            self._queue.append(partial(fn, *args, **kwargs))
            return
        result = self._invoke(fn, args, kwargs)
        if result is not None:
            self._idle.clear()
            self._task = asyncio.get_running_loop().create_task(self._drain(fn, result))

    def backpressure(self) -> Awaitable[object] | None:
        """Something to await when the consumer is far behind, else None (the common, free case)."""
        if len(self._queue) > self._backlog_limit:
            return self._idle.wait()
        return None

    async def wait_idle(self) -> None:
        # Waits on an event, not on the drain task: cancelling the waiter must not cancel delivery.
        await self._idle.wait()

    def _invoke(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Awaitable[Any] | None:
        try:
            result = fn(*args, **kwargs)
        except Exception as err:
            self._fail(fn, err)
            return None
        return result if inspect.isawaitable(result) else None

    async def _drain(self, fn: Callable[..., Any], first: Awaitable[Any]) -> None:
        try:
            await self._await(fn, first)
            while self._queue:
                call = self._queue.popleft()
                result = self._invoke(call, (), {})
                if result is not None:
                    await self._await(call, result)
        finally:
            self._task = None
            self._idle.set()

    async def _await(self, fn: Callable[..., Any], result: Awaitable[Any]) -> None:
        try:
            await result
        except Exception as err:
            self._fail(fn, err)

    def _fail(self, fn: Callable[..., Any], err: Exception) -> None:
        target = fn.func if isinstance(fn, partial) else fn
        name = getattr(target, "__name__", type(target).__name__)
        log.error("event sink %s raised", name, exc_info=err)
        if self.error is None:
            self.error = CallbackError(name, err)


class EventEmitter:
    """Stamps wire events (executionId, seq 1, 2, 3 …, ts) and hands each to ``on_event``; nothing is
    emitted after the final event. Keys are masked here for every event but ``stage:output``, whose
    chunker masks them (a key may be cut between deltas)."""

    def __init__(self, execution_id: str, on_event: Callable[[dict[str, Any]], Any], secrets: list[str]) -> None:
        self.execution_id = execution_id
        self.hooks = HookDelivery()
        self._on_event = on_event
        self._secrets = secrets
        self._seq = 0
        self.final: dict[str, Any] | None = None

    def emit(self, type_: str, **fields: Any) -> None:
        if self.final is not None:
            return  # defensive: nothing ever follows the final event
        self._seq += 1
        shown = fields if type_ == "stage:output" else mask_value(fields, self._secrets)
        event = make_event(type_, execution_id=self.execution_id, seq=self._seq, **shown)
        if type_ in FINAL_EVENT_TYPES:
            self.final = event
        self.hooks.call(self._on_event, event)
