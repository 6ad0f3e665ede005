"""The agent CLIs stagecast knows by name, described once: the adapters find and name them from here,
and ``discovery`` probes exactly these.

A tool is found, in order: at the path in its ``STAGECAST_<TOOL>_PATH`` variable (v1 named it
``STAGECAST_<TOOL>_BIN``; both are read), on ``PATH``, or in this checkout's ``.stagecast/tools``, where
``scripts/install-claude-code.sh`` puts Claude Code. Never from a request: a pipeline names a tool,
the server's environment says where it is.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...errors import CLINotFoundError

REPO_ROOT = Path(__file__).resolve().parents[4]
PROJECT_TOOLS_BIN = REPO_ROOT / ".stagecast" / "tools" / "node_modules" / ".bin"


@dataclass(frozen=True, slots=True)
class AgentTool:
    name: str
    product: str
    install: str

    @property
    def path_env(self) -> str:
        return f"STAGECAST_{self.name.upper()}_PATH"

    @property
    def legacy_env(self) -> str:
        return f"STAGECAST_{self.name.upper()}_BIN"

    def install_hint(self) -> str:
        return f"install {self.product} ({self.install}) or set {self.path_env}"


AGENT_TOOLS: dict[str, AgentTool] = {
    "claude": AgentTool(
        "claude", "Claude Code", "bash scripts/install-claude-code.sh, or npm install -g @anthropic-ai/claude-code"
    ),
    "opencode": AgentTool("opencode", "opencode", "npm install -g opencode-ai"),
    "gemini": AgentTool("gemini", "Gemini CLI", "npm install -g @google/gemini-cli"),
}


def agent_program(name: str, env: Mapping[str, str]) -> str:
    """The configured path when one is set, else the tool's bare name (see ``resolve_program``)."""
    tool = AGENT_TOOLS[name]
    return env.get(tool.path_env) or env.get(tool.legacy_env) or name


def resolve_program(program: str, env: Mapping[str, str], label: str, hint: str = "") -> str:
    """The executable to run, found up front the way execvp would, so a missing tool is a clear error.

    A path (anything with a ``/``) is taken as it is, relative to our own working directory, not the
    stage's. A bare name is looked up on ``env["PATH"]``, then, for the agent CLIs, in the project's
    tools directory.
    """
    if "/" in program:
        full = os.path.abspath(program)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return full
        raise CLINotFoundError(label, f"{full} does not exist or is not executable")
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None and program in AGENT_TOOLS:
        local = PROJECT_TOOLS_BIN / program
        if local.is_file() and os.access(local, os.X_OK):
            found = str(local)
    if found is None:
        raise CLINotFoundError(label, hint or f'no "{program}" on PATH')
    return os.path.abspath(found)
