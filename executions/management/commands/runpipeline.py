"""``runpipeline``: run a pipeline in this process (no worker, no Redis), streaming to the terminal."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console

from executions.cli.terminal import TerminalRenderer
from executions.engine.errors import PipelineConfigError
from executions.engine.executor import PipelineExecutor
from executions.engine.types import CLI_TOOLS, RUN_MODES, EventSink, ExecutionOutcome, RunOverrides, fan_out
from executions.models import Execution
from executions.reruns import RerunRefused, execution_rerun, execution_reuse
from executions.services import execution_create, pipeline_get
from executions.worker.recorder import ExecutionRecorder

EXIT_CODES = {"success": 0, "early_exit": 0, "failed": 1, "cancelled": 130}


def json_lines(event: dict[str, Any]) -> None:
    """``--json``: one wire event per line on stdout, nothing else there."""
    sys.stdout.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Command(BaseCommand):
    help = "Run a pipeline here and now, streaming each stage's output to the terminal as it arrives."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pipeline", nargs="?", help="a pipeline id (see listpipelines) or a path to a .yaml file")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--input", help="the run's input text")
        source.add_argument("--input-file", help="read the input from this file ('-' for stdin)")
        parser.add_argument("--json", action="store_true", help="print one wire event per line, nothing else")
        parser.add_argument("--mode", choices=RUN_MODES, help="run every stage on this kind of model")
        parser.add_argument("--tool", choices=CLI_TOOLS, help="with --mode cli (implied): which agent CLI")
        parser.add_argument(
            "--rerun",
            metavar="EXECUTION_ID",
            help="run that execution's stored pipeline again, instead of naming one (with --input: on a new input)",
        )
        parser.add_argument(
            "--from",
            dest="from_stage",
            metavar="STAGE",
            help="with --rerun: reuse the stages before STAGE as that run left them (no model call)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        err = Console(stderr=True, highlight=False)
        if options["rerun"] is not None:
            execution = self._rerun(options, err)
        else:
            execution = self._new(options, err)
        pipeline, input_text, overrides = execution.pipeline_config, execution.input, execution.overrides
        recorder = ExecutionRecorder(str(execution.id))
        display: EventSink = (
            json_lines if options["json"] else TerminalRenderer(Console(highlight=False, soft_wrap=True))
        )
        executor = PipelineExecutor(
            pipeline,
            input=input_text,
            execution_id=str(execution.id),
            on_event=fan_out(recorder, display),
            overrides=overrides,
            reuse=execution_reuse(execution=execution),
        )
        try:
            outcome = asyncio.run(self._run(executor))
        finally:
            recorder.close()
        raise SystemExit(EXIT_CODES.get(outcome.status, 1))

    def _new(self, options: dict[str, Any], err: Console) -> Execution:
        if options["pipeline"] is None:
            raise CommandError("name a pipeline (see listpipelines), or --rerun an execution", returncode=2)
        if options["from_stage"] is not None:
            raise CommandError("--from goes with --rerun", returncode=2)
        input_text = self._read_input(options)
        try:
            pipeline = pipeline_get(ref=options["pipeline"])
        except PipelineConfigError as exc:
            err.print(str(exc), markup=False, style="red")
            raise SystemExit(1) from None
        mode = options["mode"] or ("cli" if options["tool"] else None)
        if options["tool"] and mode != "cli":
            raise CommandError("--tool goes with --mode cli", returncode=2)
        return execution_create(
            pipeline=pipeline, input=input_text, overrides=RunOverrides(mode=mode, tool=options["tool"])
        )

    def _rerun(self, options: dict[str, Any], err: Console) -> Execution:
        if options["pipeline"] is not None:
            raise CommandError("--rerun runs that execution's own pipeline: name no pipeline with it", returncode=2)
        if options["mode"] or options["tool"]:
            raise CommandError("--rerun keeps the run's own --mode/--tool: give neither", returncode=2)
        try:
            parent = Execution.objects.get(pk=options["rerun"])
        except (Execution.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"--rerun: no execution {options['rerun']}", returncode=2) from None
        has_input = options["input"] is not None or options["input_file"] is not None
        try:
            return execution_rerun(
                parent=parent,
                user=parent.created_by,
                from_stage=options["from_stage"],
                input=self._read_input(options) if has_input else None,
                enqueue=False,
            )
        except RerunRefused as exc:
            err.print(f"cannot re-run {parent.pk}: {exc}", markup=False, style="red")
            raise SystemExit(1) from None

    async def _run(self, executor: PipelineExecutor) -> ExecutionOutcome:
        # Ctrl-C cancels the run: the in-flight model call is aborted at once and the run ends as cancelled.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, executor.cancel, "cancelled with Ctrl-C")
        loop.add_signal_handler(signal.SIGTERM, executor.cancel, "cancelled (SIGTERM)")
        return await executor.run()

    def _read_input(self, options: dict[str, Any]) -> str:
        if options["input"] is not None:
            return options["input"]
        path = options["input_file"]
        if path and path != "-":
            try:
                with open(path, encoding="utf-8") as f:
                    return f.read()
            except OSError as exc:
                raise CommandError(f"--input-file {path}: {exc.strerror}", returncode=2) from None
            except UnicodeDecodeError:
                raise CommandError(f"--input-file {path}: not UTF-8 text", returncode=2) from None
        if path == "-" or not sys.stdin.isatty():
            return sys.stdin.read()
        raise CommandError("no input: pass --input TEXT, --input-file FILE, or pipe it on stdin", returncode=2)
