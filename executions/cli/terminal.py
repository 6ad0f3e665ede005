"""The live terminal display of ``runpipeline``: a header per stage, a spinner until its first token,
then the text exactly as it streams, and a one-line summary when the stage ends (rich does the drawing).

An event sink like any other viewer: it reads the wire events, nothing else of the engine."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.status import Status
from rich.text import Text

from executions.engine import wire
from executions.engine.formatting import format_cost, format_duration


def stage_summary(result: dict[str, Any]) -> str:
    """One line for a ``stage:completed`` event's ``result``."""
    usage = result.get("usage") or {}
    input_tokens, output_tokens = usage.get("inputTokens", 0), usage.get("outputTokens", 0)
    duration, ttft = result.get("duration") or 0.0, result.get("timeToFirstToken")
    if result.get("reusedFrom"):
        return f"reused from {result['reusedFrom']} (no model call)"
    parts = [f"completed in {format_duration(duration)}"]
    if input_tokens or output_tokens:
        parts.append(f"{input_tokens:,} in / {output_tokens:,} out tokens")
        generating_ms = duration - (ttft or 0)
        if output_tokens and generating_ms > 0:
            parts.append(f"{output_tokens / generating_ms * 1000:.0f} tok/s")
    if ttft is not None:
        parts.append(f"first token {format_duration(ttft)}")
    parts.append(format_cost(result.get("cost", 0.0), result.get("costSource") or "unknown"))
    if (result.get("attempts") or 1) > 1:
        parts.append(f"{result['attempts']} attempts")
    return " · ".join(parts)


STATUS_STYLES = {"success": "bold green", "early_exit": "bold green", "cancelled": "bold yellow"}


class TerminalRenderer:
    """``on_event`` for the executor (or ``fan_out``)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Status | None = None
        self._at_line_start = True
        self._started_ts: int | None = None

    def __call__(self, event: wire.Event) -> None:
        kind = event["type"]
        if kind == "stage:output":
            self._output(event["output"])
        elif kind == "execution:started":
            self._execution_started(event)
        elif kind == "stage:started":
            self._stage_started(event)
        elif kind in wire.FINAL_EVENT_TYPES:
            self._ended(event)
        else:
            self._stop_spinner()
            self._newline_if_needed()
            if kind == "stage:retrying":
                delay_s = event.get("delayMs", 0) / 1000
                note = f"↻ {event['error']} — attempt {event['attempt']} in {delay_s:.1f} s (the text above is void)"
                self.console.print(Text(note, "yellow"))
            elif kind == "stage:completed":
                self.console.print(Text(f"✓ {stage_summary(event['result'])}", "green"))
            elif kind == "stage:skipped":
                self.console.print(Text(f"↷ skipped: {event['reason']}", "dim"))
            elif kind == "stage:failed":
                self.console.print(Text(f"✗ failed: {event['error']}", "bold red"))

    def _output(self, output: str) -> None:
        if not output:
            return
        self._stop_spinner()
        # The model's text goes out as it is, never through markup: it is the user's content.
        self.console.file.write(output)
        self.console.file.flush()
        self._at_line_start = output.endswith("\n")

    def _execution_started(self, event: wire.Event) -> None:
        self._started_ts = event["ts"]
        count = len(event["stages"])
        self.console.print(
            Text.assemble(
                ("stagecast ", "bold"),
                (event.get("pipelineName") or event.get("pipelineId") or "", "bold cyan"),
                (f"  {count} stage{'s' if count != 1 else ''} · execution {event['executionId']}", "dim"),
            )
        )

    def _stage_started(self, event: wire.Event) -> None:
        stage = event["stage"]
        self.console.print()
        model = f" · {stage.get('provider')} {stage.get('model', '')}".rstrip() if stage.get("provider") else ""
        head = f"▶ [{event['index'] + 1}/{event['total']}] "
        self.console.print(Text.assemble((head, "bold"), (stage.get("name") or stage["id"], "bold"), (model, "dim")))
        if self.console.is_terminal:
            self._status = self.console.status("waiting for the first token…", spinner="dots")
            self._status.start()

    def _ended(self, event: wire.Event) -> None:
        self._stop_spinner()
        self._newline_if_needed()
        self.console.print()
        status, error = wire.final_event_status(event), wire.final_event_error(event)
        style = STATUS_STYLES.get(status, "bold red")
        line = Text(status.replace("_", " "), style)
        if self._started_ts is not None:
            line.append(f"  in {format_duration(event['ts'] - self._started_ts)}", "dim")
        if error:
            line.append(f"  {error}", style)
        self.console.print(line)

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _newline_if_needed(self) -> None:
        if not self._at_line_start:
            self.console.file.write("\n")
            self._at_line_start = True
