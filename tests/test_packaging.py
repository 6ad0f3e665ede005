"""The package as `pip install` gets it: a wheel (built from an sdist, as from PyPI) holds the code, the
templates, the static files and the built-in pipelines, and its `stagecast` command runs from it alone.

Built once per session from a copy of this tree (the files git would see, untracked ones included), so
the build writes no egg-info or build/ into the checkout; uv builds it with setuptools from its cache.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
#: htmx-ext-sse 2.2.4 minified, as django-htmx 1.29.0 ships it (static/vendor/README.md): the build the page
#: and its browser tests were checked against. A django-htmx upgrade that changes it fails here first.
SSE_EXTENSION = "django_htmx/ext/hx-sse-2.min.js"
SSE_EXTENSION_SHA256 = "98a46496de0c3605fbffdce9167ba427bdd9553184f83f149c261891a92c0136"


def _uv() -> str | None:
    return shutil.which("uv") or next(
        (str(p) for p in [ROOT / ".stagecast/tools/uv-venv/bin/uv"] if p.is_file() and os.access(p, os.X_OK)), None
    )


def _source_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [Path(name) for name in listed.split("\0") if name and (ROOT / name).is_file()]


SOURCE = _source_files()


def _under(top: str, suffix: str = "") -> set[str]:
    """The files under ``top``, but dotfiles (static/.keep), which collectstatic and the loaders ignore too."""
    return {
        p.relative_to(top).as_posix()
        for p in SOURCE
        if p.parts[0] == top and p.name.endswith(suffix) and not p.name.startswith(".")
    }


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not installed (scripts/setup.sh installs it into .stagecast/tools)")
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    for rel in SOURCE:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    # Without --wheel or --sdist uv builds the sdist, then the wheel from it: both must carry the data.
    built = subprocess.run(
        [uv, "build", "--quiet", "--python", sys.executable, "--out-dir", str(base / "dist"), str(src)],
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    wheels = sorted((base / "dist").glob("*.whl"))
    assert [w.name for w in wheels] == ["stagecast-2.0.0-py3-none-any.whl"]
    with zipfile.ZipFile(wheels[0]) as zf:
        yield zf


@pytest.fixture(scope="session")
def unpacked(wheel: zipfile.ZipFile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    wheel.extractall(target)
    return target


def _names(wheel: zipfile.ZipFile, top: str) -> set[str]:
    return {n.removeprefix(f"{top}/") for n in wheel.namelist() if n.startswith(f"{top}/") and not n.endswith("/")}


def test_the_wheel_holds_these_packages_and_nothing_beside_them(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"executions", "pipelines_site", "stagecast-2.0.0.dist-info"}


def test_every_python_file_of_the_packages_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    # A new directory of modules missing from [tool.setuptools] packages in pyproject.toml fails here.
    for top in ("executions", "pipelines_site"):
        source = _under(top, ".py")
        assert source, top
        assert {n for n in _names(wheel, top) if n.endswith(".py")} == source


def test_templates_and_static_files_are_in_the_wheel_inside_the_package(wheel: zipfile.ZipFile) -> None:
    templates, static = _under("templates"), _under("static")
    assert {"base.html", "executions/execution_detail.html", "registration/login.html"} <= templates
    assert {"stagecast.css", "stagecast.js", "vendor/htmx-2.0.11.min.js"} <= static
    names = _names(wheel, "pipelines_site")
    assert {n.removeprefix("templates/") for n in names if n.startswith("templates/")} == templates
    assert {n.removeprefix("static/") for n in names if n.startswith("static/")} == static


def test_the_builtin_pipelines_and_the_price_overrides_are_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = _names(wheel, "executions")
    assert sorted(n for n in names if n.startswith("pipelines/")) == [
        "pipelines/code-review.yaml",
        "pipelines/demo.yaml",
        "pipelines/prompt-optimizer.yaml",
        "pipelines/summarize-critique.yaml",
    ]
    assert "engine/prices.json" in names
    assert wheel.read("executions/engine/prices.json") == (ROOT / "executions/engine/prices.json").read_bytes()


def test_the_console_script_resolves_to_a_callable_in_the_wheel(wheel: zipfile.ZipFile, unpacked: Path) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read("stagecast-2.0.0.dist-info/entry_points.txt").decode())
    assert dict(entry_points["console_scripts"]) == {"stagecast": "pipelines_site.cli:main"}
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from importlib.metadata import EntryPoint;"
        "f = EntryPoint('stagecast', 'pipelines_site.cli:main', 'console_scripts').load();"
        "print(callable(f), f.__code__.co_filename)"
    )
    # -I: neither this checkout (the current directory) nor PYTHONPATH can stand in for the wheel.
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(unpacked)], capture_output=True, text=True)
    assert out.stdout.split() == ["True", str(unpacked / "pipelines_site" / "cli.py")], out.stderr


def _stagecast(unpacked: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The `stagecast` command run from the unpacked wheel (the dependencies from this virtualenv)."""
    run = "import sys; sys.path.insert(0, sys.argv.pop(1)); from pipelines_site.cli import main; main()"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STAGECAST_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-I", "-c", run, str(unpacked), *args],
        cwd=cwd,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_installed_command_finds_pipelines_templates_and_static_files_in_the_package(
    unpacked: Path, tmp_path: Path
) -> None:
    valid = _stagecast(unpacked, tmp_path, "validatepipeline", "demo")
    assert (valid.returncode, valid.stdout) == (0, "demo: valid (demo, 3 stages)\n"), valid.stderr
    probe = (
        "from django.template.loader import get_template; from django.contrib.staticfiles import finders;"
        "print(get_template('base.html').origin.name); print(finders.find('vendor/htmx-2.0.11.min.js'))"
    )
    shell = _stagecast(unpacked, tmp_path, "shell", "--no-imports", "-c", probe)
    assert shell.stdout.splitlines() == [
        str(unpacked / "pipelines_site/templates/base.html"),
        str(unpacked / "pipelines_site/static/vendor/htmx-2.0.11.min.js"),
    ], shell.stderr
    # Installed, the data dir is the current directory's .stagecast/, not one inside site-packages.
    assert (tmp_path / ".stagecast").is_dir() and not (unpacked / ".stagecast").exists()


def test_the_scripts_the_pages_load_are_found_at_the_builds_they_were_tested_with() -> None:
    base = (ROOT / "templates/base.html").read_text()
    scripts = re.findall(r"<script src=\"\{% static '([^']+)' %\}\"", base)
    assert scripts == ["vendor/htmx-2.0.11.min.js", SSE_EXTENSION, "stagecast.js"]
    found = {name: finders.find(name) for name in scripts}
    assert all(isinstance(path, str) for path in found.values()), found
    assert 'version:"2.0.11"' in Path(str(found["vendor/htmx-2.0.11.min.js"])).read_text()
    sse = Path(str(found[SSE_EXTENSION]))
    assert hashlib.sha256(sse.read_bytes()).hexdigest() == SSE_EXTENSION_SHA256, f"{sse} changed: see static/vendor"
