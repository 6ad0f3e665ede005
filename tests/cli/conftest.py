from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.harness import Sandbox


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """A temp dir with helpers for stubs, FIFO gates and the files the stub writes."""
    sandbox = Sandbox(tmp_path)
    try:
        yield sandbox
    finally:
        sandbox.close()
