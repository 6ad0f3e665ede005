#!/usr/bin/env bash
# Runs every test: set-up first (it installs only what is missing), then pytest with any arguments given.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/pytest "$@"
