"""Fixtures of the fault tests (the live stack itself is ``live``, from tests/helpers/stack.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.stack import Stack

#: add_pipeline(template, pipeline id, retries=…) → the id, runnable at once
AddPipeline = Callable[..., str]


@pytest.fixture
def add_pipeline(live: Stack) -> Iterator[AddPipeline]:
    """Writes pipelines (tests/helpers/faults.py templates) into the stack's pipelines dir for this test
    alone: the web process reads the dir at each run request, and the files go when the test ends."""
    written: list[Path] = []

    def add(template: str, pipeline_id: str, *, retries: int = 0) -> str:
        path = live.pipelines_dir / f"{pipeline_id}.yaml"
        path.write_text(template.format(id=pipeline_id, retries=retries))
        written.append(path)
        return pipeline_id

    yield add
    for path in written:
        path.unlink(missing_ok=True)
