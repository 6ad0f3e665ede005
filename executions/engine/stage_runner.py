"""Runs one stage: renders its prompt, calls its model and hands every delta on the moment it arrives,
retrying retryable failures (each attempt starts fresh), enforcing the stage timeout, and parsing the
answer. Cancellation is asyncio's: cancelling the task that awaits :meth:`StageRunner.run` closes the
provider's stream at once; :attr:`StageRunner.output` still holds what the attempt had streamed.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from executions.engine.context import RunContext
from executions.engine.cost import estimate_cost
from executions.engine.errors import StagecastError, StageTimeoutError, error_message
from executions.engine.parsing import parse_output
from executions.engine.resolve import ResolvedStage
from executions.engine.retry import DEFAULT_RETRY_BASE_DELAY_S, retry_delay_s
from executions.engine.surrogates import SurrogateMender, without_nul
from executions.engine.templates import render_template
from executions.engine.types import (
    Delta,
    FinishDelta,
    FinishReason,
    ModelConfig,
    ModelRequest,
    Provider,
    StageResult,
    TextDelta,
    Usage,
    UsageDelta,
)

ProviderResolver = Callable[[ModelConfig], "Provider | Awaitable[Provider]"]


class StageHooks(Protocol):
    def on_delta(self, text: str) -> Awaitable[None] | None:
        """A text delta of the current attempt. An awaitable back means: wait for it (backpressure)."""

    def on_retry(self, attempt: int, error: StagecastError, delay_s: float) -> None:
        """Attempt ``attempt - 1`` failed; attempt ``attempt`` starts after ``delay_s``. Its output is void."""


@dataclass(slots=True)
class StageSuccess:
    output: str
    data: Any
    result: StageResult


class StageFailure(Exception):
    """A stage failure, with the output streamed by its last attempt (kept, never lost)."""

    def __init__(self, error: StagecastError, output: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.output = output


def to_stagecast_error(err: BaseException) -> StagecastError:
    if isinstance(err, StagecastError):
        return err
    # An exception no provider translated (a bug, a library's own error type): shown, never retried.
    return StagecastError(error_message(err), code="provider_error")


class StageRunner:
    def __init__(
        self,
        stage: ResolvedStage,
        *,
        resolve_provider: ProviderResolver,
        retry_base_delay_s: float = DEFAULT_RETRY_BASE_DELAY_S,
        cwd: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.stage = stage
        self._resolve_provider = resolve_provider
        self._retry_base_delay_s = retry_base_delay_s
        self._cwd = cwd
        self._clock = clock
        self._parts: list[str] = []
        self.attempt = 0

    @property
    def output(self) -> str:
        """The current attempt's output so far (after a retry, only the new attempt's)."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    async def run(self, ctx: RunContext, hooks: StageHooks) -> StageSuccess:
        stage = self.stage
        started = self._clock()
        try:
            request = ModelRequest(
                model=stage.model,
                prompt=render_template(stage.config.get("prompt", ""), ctx, f"stages[{stage.index}].prompt"),
                system=None
                if stage.system is None
                else render_template(stage.system, ctx, f"stages[{stage.index}].system"),
                cwd=self._cwd,
            )
            provider = self._resolve_provider(stage.model)
            if inspect.isawaitable(provider):
                provider = await provider
        except Exception as err:
            raise StageFailure(to_stagecast_error(err), "") from err

        while True:
            self.attempt += 1
            self._parts = []
            try:
                result = await self._attempt(provider, request, hooks, started)
                break
            except Exception as err:
                error = to_stagecast_error(err)
            if not error.retryable or self.attempt > stage.retries:
                raise StageFailure(error, self.output) from error
            delay = retry_delay_s(error, self.attempt, base_s=self._retry_base_delay_s)
            hooks.on_retry(self.attempt + 1, error, delay)
            # Cancellable: cancelling this task during the wait ends the stage with no output.
            self._parts = []
            await asyncio.sleep(delay)

        output = self.output
        try:
            data = parse_output(output, stage.output, f"stages.{stage.ref.id}.output")
        except Exception as err:
            raise StageFailure(to_stagecast_error(err), output) from err
        return StageSuccess(output=output, data=data, result=result)

    async def _attempt(
        self, provider: Provider, request: ModelRequest, hooks: StageHooks, started: float
    ) -> StageResult:
        stage = self.stage
        attempt_start = self._clock()
        first_token_at: float | None = None
        usage = Usage()
        finish: FinishReason = "stop"
        cost_usd: float | None = None
        parts = self._parts
        on_delta = hooks.on_delta
        mender = SurrogateMender()
        try:
            async with asyncio.timeout(stage.timeout_ms / 1000) as deadline:
                stream = provider.stream(request)
                try:
                    # The hot path: one iteration per token. Append and hand on; nothing else (the
                    # mender only looks at non-ASCII text, and isascii() is a flag check; the NUL
                    # test is one memchr).
                    async for delta in stream:
                        if type(delta) is TextDelta:
                            text = delta.text
                            if not text.isascii() or mender.held:
                                text = mender.feed(text)
                            if "\x00" in text:
                                text = without_nul(text)
                            if not text:
                                continue
                            if first_token_at is None:
                                first_token_at = self._clock()
                            parts.append(text)
                            waiter = on_delta(text)
                            if waiter is not None:
                                await waiter
                        elif type(delta) is UsageDelta:
                            usage = delta.usage
                        elif type(delta) is FinishDelta:
                            finish = delta.reason
                            usage = delta.usage or usage
                            cost_usd = delta.cost_usd
                    if tail := mender.end():
                        parts.append(tail)
                        waiter = on_delta(tail)
                        if waiter is not None:
                            await waiter
                finally:
                    # `async for` does not close a generator it leaves by an exception; the provider's
                    # call (HTTP stream, child process) must stop now, not when the GC gets to it.
                    await _aclose(stream)
        except TimeoutError as err:
            if deadline.expired():
                timeout = StageTimeoutError(stage.timeout_ms)
                # An agent CLI notes its last stderr lines on the cancellation it was stopped by.
                notes = getattr(err.__cause__, "__notes__", None)
                if notes:
                    timeout.message += "; " + "; ".join(notes)
                raise timeout from err
            raise

        cost, cost_source = (cost_usd, "tool") if cost_usd is not None else self._estimate(usage)
        now = self._clock()
        return StageResult(
            cost=cost,
            cost_source=cost_source,
            duration_ms=(now - started) * 1000,
            usage=usage,
            time_to_first_token_ms=None if first_token_at is None else (first_token_at - attempt_start) * 1000,
            attempts=self.attempt,
            finish_reason=finish,
            provider=stage.ref.provider or str(stage.model.get("provider", "")),
            model=str(stage.model.get("model") or stage.ref.model),
        )

    def _estimate(self, usage: Usage) -> tuple[float, str]:
        model = self.stage.model
        return estimate_cost(str(model.get("provider", "")), model.get("model"), usage, base_url=model.get("baseURL"))


async def _aclose(stream: AsyncIterator[Delta]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
