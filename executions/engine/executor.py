"""Runs a pipeline's stages in order and reports everything over one path: the stamped wire events of
ARCHITECTURE.md "Wire events", handed to one ``on_event`` sink (``fan_out`` makes several one).

Each stage runs in a task of its own, so :meth:`PipelineExecutor.cancel` stops the in-flight model
call at once by cancelling that task; the run then ends with ``execution:cancelled``. Exactly one final
event is ever emitted, whatever races it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from executions.engine.chunker import DEFAULT_COALESCE_INTERVAL_MS, DEFAULT_FLUSH_BYTES, OutputChunker
from executions.engine.conditions import describe_condition, evaluate_condition
from executions.engine.context import RunContext, StageState
from executions.engine.delivery import EventEmitter
from executions.engine.errors import StagecastError, error_message
from executions.engine.outcome import summarize
from executions.engine.replay import replay_stage
from executions.engine.resolve import ResolvedStage, resolve_stage
from executions.engine.retry import DEFAULT_RETRY_BASE_DELAY_S
from executions.engine.secrets import mask_secrets, mask_value, normalize_secrets, pipeline_secrets
from executions.engine.stage_runner import ProviderResolver, StageFailure, StageRunner
from executions.engine.types import (
    EventSink,
    ExecutionOutcome,
    PipelineConfig,
    ReusedStage,
    RunOverrides,
    StageOutcome,
    StageRef,
)


class _Cancelled(Exception):
    """cancel() was called: unwinds the stage loop to the one cancelled ending."""


class _StageHooks:
    """What the stage runner calls per delta and per retry. Per-token path: a push and a length check."""

    __slots__ = ("_push", "_backpressure", "_retrying")

    def __init__(self, chunker: OutputChunker, executor: PipelineExecutor, ref: StageRef) -> None:
        self._push = chunker.push
        self._backpressure = executor._emitter.hooks.backpressure
        self._retrying = partial(executor._retrying, ref, chunker)

    def on_delta(self, text: str) -> Any:
        self._push(text)
        return self._backpressure()

    def on_retry(self, attempt: int, error: StagecastError, delay_s: float) -> None:
        self._retrying(attempt, error, delay_s)


class PipelineExecutor:
    def __init__(
        self,
        pipeline: PipelineConfig,
        *,
        input: str,
        execution_id: str | None = None,
        on_event: EventSink | None = None,
        overrides: RunOverrides | None = None,
        resolve_provider: ProviderResolver | None = None,
        env: Mapping[str, str] | None = None,
        coalesce_interval_ms: float = DEFAULT_COALESCE_INTERVAL_MS,
        flush_bytes: int = DEFAULT_FLUSH_BYTES,
        retry_base_delay_s: float = DEFAULT_RETRY_BASE_DELAY_S,
        work_dir: str | None = None,
        secrets: Sequence[str] = (),
        reuse: Mapping[str, ReusedStage] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.input = input
        self.execution_id = execution_id or str(uuid.uuid4())
        self._overrides = overrides or RunOverrides()
        self._env: Mapping[str, str] = os.environ if env is None else env
        if resolve_provider is None:
            from executions.engine.providers import resolve_provider as registry

            resolve_provider = partial(registry, env=self._env)
        self._resolve_provider = resolve_provider
        self._interval_ms = coalesce_interval_ms
        self._flush_bytes = flush_bytes
        self._retry_base_delay_s = retry_base_delay_s
        self._work_dir = work_dir
        #: stages a re-run takes from an earlier run: no model call, the same events as a run
        self._reuse = dict(reuse or {})
        self._secrets = normalize_secrets([*pipeline_secrets(pipeline, self._env), *secrets])
        self._emitter = EventEmitter(self.execution_id, on_event or _ignore, self._secrets)
        self._cancel_reason: str | None = None
        self._stage_task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._done: asyncio.Future[ExecutionOutcome] | None = None
        self._made_dir: str | None = None
        self._stages: dict[str, StageOutcome] = {}
        self._started_at = 0.0
        self._early_exit_id: str | None = None
        #: the outcome once the run has ended
        self.outcome: ExecutionOutcome | None = None

    # --- public ------------------------------------------------------------------------------------

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Stops the run: the in-flight model call is stopped at once, output so far is kept, and
        ``execution:cancelled`` is the last event. A no-op once the final event is out. Callable from
        another thread (it hops onto the run's loop) or from ``loop.add_signal_handler``."""
        if self._loop is None or threading.get_ident() == self._loop_thread:
            self._request_cancel(reason)
        else:
            self._loop.call_soon_threadsafe(self._request_cancel, reason)

    async def run(self) -> ExecutionOutcome:
        """Runs the pipeline; a failed run is an outcome (and a final event), never an exception. A
        second call waits for the first run's outcome. If the task running it is cancelled
        (``asyncio.run`` on Ctrl-C, a caller's timeout), the run ends as cancelled and re-raises."""
        if self._done is not None:
            return await asyncio.shield(self._done)
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._done = self._loop.create_future()
        try:
            outcome, interrupted = await self._execute()
        finally:
            if self._made_dir is not None:
                await asyncio.to_thread(shutil.rmtree, self._made_dir, True)
        self.outcome = outcome
        self._done.set_result(outcome)
        if interrupted:
            raise asyncio.CancelledError
        return outcome

    # --- the run -----------------------------------------------------------------------------------

    async def _execute(self) -> tuple[ExecutionOutcome, bool]:
        """The outcome, and whether the task running it was cancelled from outside."""
        self._started_at = time.time()
        try:
            resolved = [
                resolve_stage(self.pipeline, i, self._overrides, self._env) for i in range(len(self.pipeline["stages"]))
            ]
        except Exception as err:
            return await self._crash(err), False
        ctx = RunContext(input=self.input, stages={s.ref.id: StageState() for s in resolved})
        self._stages.update({s.ref.id: StageOutcome() for s in resolved})
        refs = [s.ref for s in resolved]
        shown_input = mask_secrets(self.input, self._secrets)
        self._emitter.emit(
            "execution:started",
            pipelineId=self.pipeline.get("id", ""),
            pipelineName=self.pipeline.get("name", ""),
            input=shown_input,
            stages=[r.to_wire() for r in refs],
        )
        try:
            status, error = await self._run_stages(resolved, ctx)
            return await self._finish(status, error), False
        except _Cancelled:
            return await self._finish("cancelled", self._cancel_reason), False
        except asyncio.CancelledError:
            # The task running run() was cancelled from outside: still exactly one final event.
            self._cancel_reason = self._cancel_reason or "cancelled"
            return await self._finish("cancelled", self._cancel_reason), True
        except Exception as err:
            return await self._crash(err), False

    async def _run_stages(self, resolved: list[ResolvedStage], ctx: RunContext) -> tuple[str, str | None]:
        status, error = "success", None
        for stage in [*resolved, None]:
            # Between stages: the consumer has seen everything so far, and a cancel takes effect.
            await self._emitter.hooks.wait_idle()
            if self._emitter.hooks.error is not None:
                raise self._emitter.hooks.error
            if self._cancel_reason is not None:
                raise _Cancelled
            if stage is None:
                return status, error
            reused = self._reuse.get(stage.ref.id)
            if reused is not None and status == "success":
                # Taken as it was: its conditions were met (or not) in the run it comes from, and an
                # earlyExit there does not end this run, which was asked to go on from a later stage.
                self._replay(stage, reused, len(resolved), ctx)
                continue
            if status != "success":
                # An earlier stage ended the run (failure or early exit): the rest never run.
                early = self._early_exit_id
                why = f"early exit after stage {early}" if early else "not run: an earlier stage failed"
                self._skip(stage.ref, why, ctx)
                continue
            unmet = self._skip_reason(stage, ctx)
            if unmet is not None:
                self._skip(stage.ref, unmet, ctx)
                continue
            failure = await self._run_stage(stage, len(resolved), ctx)
            if failure is None:
                exit_if = stage.config.get("earlyExit")
                if exit_if and evaluate_condition(exit_if, ctx):
                    status, self._early_exit_id = "early_exit", stage.ref.id
            elif not stage.config.get("continueOnError"):
                status, error = "failed", f"stage {stage.ref.id} failed: {failure}"
        raise AssertionError("unreachable")

    async def _run_stage(self, stage: ResolvedStage, total: int, ctx: RunContext) -> str | None:
        """Runs one stage to its end; the failure message, or None when it completed."""
        ref, emit, mask = stage.ref, self._emitter.emit, partial(mask_secrets, secrets=self._secrets)
        emit("stage:started", stage=ref.to_wire(), index=stage.index, total=total)
        ctx.stages[ref.id] = StageState(status="running")
        chunker = OutputChunker(
            partial(self._chunk, ref),
            interval_ms=self._interval_ms,
            flush_bytes=self._flush_bytes,
            secrets=self._secrets,
        )
        runner = StageRunner(
            stage,
            resolve_provider=self._resolve_provider,
            retry_base_delay_s=self._retry_base_delay_s,
            cwd=self._cwd_for(stage),
        )
        task = asyncio.create_task(runner.run(ctx, _StageHooks(chunker, self, ref)), name=f"stage {ref.id}")
        self._stage_task = task
        try:
            done = await task
            chunker.finish()
        except asyncio.CancelledError:
            chunker.finish()  # what was streamed goes out before the run ends: nothing produced is lost
            self._stages[ref.id] = StageOutcome(status="cancelled", output=mask(runner.output))
            ctx.stages[ref.id] = StageState(status="cancelled", output=runner.output)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            raise _Cancelled from None
        except StageFailure as failure:
            chunker.finish()
            output, message = mask(failure.output), mask(failure.error.message)
            self._stages[ref.id] = StageOutcome(status="failed", output=output, error=message)
            ctx.stages[ref.id] = StageState(status="failed", output=failure.output)
            emit("stage:failed", stage=ref.to_wire(), error=message, code=failure.error.code)
            return message
        finally:
            self._stage_task = None
            chunker.close()
        output, data = mask(done.output), mask_value(done.data, self._secrets)
        self._stages[ref.id] = StageOutcome(status="completed", output=output, data=data, result=done.result)
        # Later stages' templates get the real text: masking is for what people and logs see.
        ctx.stages[ref.id] = StageState(status="completed", output=done.output, data=done.data)
        completed = {"stage": ref.to_wire(), "result": done.result.to_wire()}
        if data is not None:
            completed["data"] = data  # parsed JSON (output.format json): optional, for its readers
        emit("stage:completed", **completed)
        return None

    def _replay(self, stage: ResolvedStage, reused: ReusedStage, total: int, ctx: RunContext) -> None:
        if reused.status == "skipped":
            self._skip(stage.ref, reused.reason or f"skipped in {reused.source}", ctx)
            return
        outcome = replay_stage(self._emitter.emit, stage.ref, reused, index=stage.index, total=total)
        self._stages[stage.ref.id] = outcome
        ctx.stages[stage.ref.id] = StageState(status="completed", output=reused.output, data=reused.data)

    # --- events --------------------------------------------------------------------------------------

    def _chunk(self, ref: StageRef, output: str, offset: int, is_final: bool) -> None:
        # Per-chunk hot path (tens per second per stage): one hand-off, no I/O of our own.
        self._emitter.emit("stage:output", stageId=ref.id, output=output, offset=offset, isFinal=is_final)

    def _retrying(
        self, ref: StageRef, chunker: OutputChunker, attempt: int, error: StagecastError, delay_s: float
    ) -> None:
        chunker.reset()
        message = mask_secrets(error.message, self._secrets)
        self._emitter.emit(
            "stage:retrying", stageId=ref.id, attempt=attempt, error=message, delayMs=round(delay_s * 1000)
        )

    def _skip(self, ref: StageRef, reason: str, ctx: RunContext) -> None:
        self._stages[ref.id] = StageOutcome(status="skipped", reason=reason)
        ctx.stages[ref.id] = StageState(status="skipped")
        self._emitter.emit("stage:skipped", stage=ref.to_wire(), reason=reason)

    async def _finish(self, status: str, error: str | None) -> ExecutionOutcome:
        outcome = self._outcome(status, error)
        if status == "cancelled":
            self._emitter.emit("execution:cancelled", reason=error or "cancelled")
        else:
            result = {"status": status, "summary": outcome.summary}
            if error:
                result["error"] = error  # why a failed run failed (optional: absent on success)
            self._emitter.emit("execution:completed", result=result)
        await self._emitter.hooks.wait_idle()
        return outcome

    async def _crash(self, err: BaseException) -> ExecutionOutcome:
        """A defect or a broken consumer, not a model failure: the run's final event, not an exception."""
        outcome = self._outcome("failed", mask_secrets(error_message(err), self._secrets))
        self._emitter.emit("execution:failed", error=outcome.error)
        await self._emitter.hooks.wait_idle()
        return outcome

    def _outcome(self, status: str, error: str | None) -> ExecutionOutcome:
        ended_at = time.time()
        summary = summarize(self._stages, (ended_at - self._started_at) * 1000, self._early_exit_id)
        return ExecutionOutcome(
            execution_id=self.execution_id,
            status=status,
            stages=self._stages,
            error=error,
            started_at=self._started_at,
            ended_at=ended_at,
            summary=summary,
        )

    # --- helpers -----------------------------------------------------------------------------------

    def _request_cancel(self, reason: str) -> None:
        if self._emitter.final is not None or self._cancel_reason is not None:
            return
        self._cancel_reason = reason
        if self._stage_task is not None:
            self._stage_task.cancel(reason)

    def _skip_reason(self, stage: ResolvedStage, ctx: RunContext) -> str | None:
        run_if, skip_if = stage.config.get("runIf"), stage.config.get("skipIf")
        if run_if and not evaluate_condition(run_if, ctx):
            return f"runIf not met: {describe_condition(run_if)}"
        if skip_if and evaluate_condition(skip_if, ctx):
            return f"skipIf met: {describe_condition(skip_if)}"
        return None

    def _cwd_for(self, stage: ResolvedStage) -> str | None:
        """A stage's own ``model.cwd`` wins; an agent CLI otherwise works in the run's own directory."""
        own = stage.model.get("cwd")
        if own or stage.model.get("provider") != "cli":
            return own or None
        if self._work_dir is not None:
            return self._work_dir
        if self._made_dir is None:
            self._made_dir = tempfile.mkdtemp(prefix="stagecast-run-")
        return self._made_dir


def _ignore(event: dict[str, Any]) -> None:
    pass
