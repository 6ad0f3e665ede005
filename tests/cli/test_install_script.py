"""scripts/install-claude-code.sh on a machine that cannot install: a clear message and exit 0."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.harness import Sandbox

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-claude-code.sh"


def copy_script(box: Sandbox) -> Path:
    # A copy in a scratch checkout: the script installs next to itself, never into this one here.
    target = box.mkdir("checkout/scripts") / SCRIPT.name
    shutil.copy(SCRIPT, target)
    return target


def test_without_npm_it_says_so_and_succeeds(box: Sandbox) -> None:
    tools_bin = box.mkdir("no-npm-bin")
    for name in ("bash", "dirname", "sed", "head", "mkdir", "mktemp", "rm", "tail", "timeout", "grep"):
        found = shutil.which(name)
        assert found is not None
        os.symlink(found, tools_bin / name)
    done = subprocess.run(
        ["bash", str(copy_script(box))], env={"PATH": str(tools_bin)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "npm is not installed, so Claude Code was not installed (apt-get install nodejs npm, then run this again)."
    ]


def test_with_the_registry_unreachable_it_says_so_and_succeeds(box: Sandbox) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed here: the test above covers this machine")
    env = {**os.environ, "npm_config_registry": "http://127.0.0.1:9/", "npm_config_fetch_retries": "0"}
    env["npm_config_cache"] = str(box.mkdir("npm-cache"))
    done = subprocess.run(["bash", str(copy_script(box))], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[1] == "Claude Code could not be installed: npm failed (the registry may be unreachable). npm said:"
    assert "ECONNREFUSED" in done.stdout
    assert not (box.dir / "checkout/.stagecast/tools/node_modules/.bin/claude").exists()
