"""The live terminal display of ``runpipeline``: a header per stage, a spinner until its first token,
then the text exactly as it streams, and a one-line summary when the stage ends (rich does the drawing)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.status import Status
from rich.text import Text

from executions.engine.formatting import format_cost, format_duration
from executions.engine.types import ExecutionOutcome, ExecutorCallbacks, PipelineConfig, StageRef, StageResult


def stage_summary(result: StageResult) -> str:
    usage = result.usage
    parts = [f"completed in {format_duration(result.duration_ms)}"]
    if usage.input_tokens or usage.output_tokens:
        parts.append(f"{usage.input_tokens:,} in / {usage.output_tokens:,} out tokens")
        generating_ms = result.duration_ms - (result.time_to_first_token_ms or 0)
        if usage.output_tokens and generating_ms > 0:
            parts.append(f"{usage.output_tokens / generating_ms * 1000:.0f} tok/s")
    if result.time_to_first_token_ms is not None:
        parts.append(f"first token {format_duration(result.time_to_first_token_ms)}")
    parts.append(format_cost(result.cost, result.cost_source))
    if result.attempts > 1:
        parts.append(f"{result.attempts} attempts")
    return " · ".join(parts)


class TerminalRenderer(ExecutorCallbacks):
    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None
        self._at_line_start = True

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _newline_if_needed(self) -> None:
        if not self._at_line_start:
            self.console.file.write("\n")
            self._at_line_start = True

    def on_pipeline_start(
        self, *, execution_id: str, pipeline: PipelineConfig, input: str, stages: list[StageRef]
    ) -> None:
        self.console.print(
            Text.assemble(
                ("stagecast ", "bold"),
                (pipeline.get("name") or pipeline["id"], "bold cyan"),
                (f"  {len(stages)} stage{'s' if len(stages) != 1 else ''} · execution {execution_id}", "dim"),
            )
        )

    def on_stage_start(self, stage: StageRef, index: int, total: int) -> None:
        self.console.print()
        model = f" · {stage.provider} {stage.model}".rstrip() if stage.provider else ""
        self.console.print(Text.assemble((f"▶ [{index + 1}/{total}] ", "bold"), (stage.name, "bold"), (model, "dim")))
        if self.console.is_terminal:
            self._status = self.console.status("waiting for the first token…", spinner="dots")
            self._status.start()

    def on_stage_output(self, stage: StageRef, output: str, is_final: bool, offset: int) -> None:
        if not output:
            return
        self._stop_spinner()
        # The model's text goes out as it is, never through markup: it is the user's content.
        self.console.file.write(output)
        self.console.file.flush()
        self._at_line_start = output.endswith("\n")

    def on_stage_retrying(self, stage: StageRef, attempt: int, error: str, delay_s: float) -> None:
        self._stop_spinner()
        self._newline_if_needed()
        self.console.print(Text(f"↻ {error} — attempt {attempt} in {delay_s:.1f} s (the text above is void)", "yellow"))

    def on_stage_complete(self, stage: StageRef, result: StageResult, output: str, data: Any) -> None:
        self._stop_spinner()
        self._newline_if_needed()
        self.console.print(Text(f"✓ {stage_summary(result)}", "green"))

    def on_stage_skipped(self, stage: StageRef, reason: str) -> None:
        self._stop_spinner()
        self.console.print(Text(f"↷ skipped: {reason}", "dim"))

    def on_stage_failed(self, stage: StageRef, error: str, output: str) -> None:
        self._stop_spinner()
        self._newline_if_needed()
        self.console.print(Text(f"✗ failed: {error}", "bold red"))

    def on_pipeline_complete(self, outcome: ExecutionOutcome) -> None:
        self._stop_spinner()
        self._newline_if_needed()
        self.console.print()
        style = {"success": "bold green", "early_exit": "bold green", "cancelled": "bold yellow"}.get(
            outcome.status, "bold red"
        )
        total = format_duration((outcome.ended_at - outcome.started_at) * 1000) if outcome.ended_at else ""
        line = Text(f"{outcome.status.replace('_', ' ')}", style)
        line.append(f"  in {total}", "dim")
        if outcome.error:
            line.append(f"  {outcome.error}", style)
        self.console.print(line)
