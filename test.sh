#!/usr/bin/env bash
# Runs every test: set-up first (it installs only what is missing), then pytest with any arguments given,
# in two lanes: SQLite (the single-machine default), then PostgreSQL (the team server's database) when a
# server answers on 127.0.0.1:5432 or at STAGECAST_TEST_DATABASE_URL. The PostgreSQL lane runs the tests
# that use the database (pytest-django makes test_<name> there); a machine with no server skips it.
# Each lane ends with pytest's own summary line (its count and time).
# Before the lanes, a lint step: ruff check, ruff format --check and mypy (pyproject.toml configures all
# three). A finding makes the script fail, but the lanes still run, so it never hides a test result.
set -uo pipefail
cd "$(dirname "$0")"
STAGECAST_SETUP_TESTS=1 bash scripts/setup.sh || exit $?

lane() { if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }

# Seconds since an $EPOCHREALTIME reading, to a tenth (bash arithmetic: no bc on a bare machine).
since() {
  local us=$((${EPOCHREALTIME/[.,]/} - ${1/[.,]/}))
  printf '%d.%d s' $((us / 1000000)) $((us / 100000 % 10))
}

lint_rc=0
lint_failed=()
# One tool: its heading, everything it printed, and whether it found anything (its exit status).
lint_tool() {
  local name=$1 started=$EPOCHREALTIME rc
  shift
  printf -- '--- %s\n' "$name"
  "$@" 2>&1
  rc=$?
  printf -- '--- %s: %s (%s)\n' "$name" "$([ "$rc" -eq 0 ] && echo clean || echo "FOUND PROBLEMS, exit $rc")" \
    "$(since "$started")"
  if [ "$rc" -ne 0 ]; then lint_rc=1; lint_failed+=("$name"); fi
}

lane "Lint: ruff check, ruff format --check, mypy"
lint_started=$EPOCHREALTIME
lint_tool "ruff check" .venv/bin/ruff check .
lint_tool "ruff format --check" .venv/bin/ruff format --check .
# The django-stubs plugin imports the settings, which need DEBUG=1 (or a SECRET_KEY) to load.
lint_tool "mypy" env DEBUG=1 .venv/bin/mypy
if [ "$lint_rc" -eq 0 ]; then lint_summary="lint: clean"; else
  lint_summary="lint: problems found by $(printf '%s, ' "${lint_failed[@]}")" && lint_summary=${lint_summary%, }
fi
printf '%s (%s)\n' "$lint_summary" "$(since "$lint_started")"

pg_url="${STAGECAST_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/stagecast}"
if pg_reason=$(.venv/bin/python -m tests.helpers.postgres probe 2>&1); then
  pg_lane=1
else
  pg_lane=0
  lane "PostgreSQL lane skipped: ${pg_reason} (set STAGECAST_TEST_DATABASE_URL to name a server)"
fi

lane "Tests on SQLite"
env -u DATABASE_URL .venv/bin/pytest "$@"
sqlite_rc=$?

pg_rc=0
if [ "$pg_lane" = 1 ]; then
  lane "Tests on PostgreSQL (${pg_url}): the tests that use the database"
  # python -m: the plugin is imported from the checkout before pytest puts it on sys.path.
  DATABASE_URL="$pg_url" .venv/bin/python -m pytest -p tests.helpers.db_lane "$@"
  pg_rc=$?
  # 5: the arguments selected no test that uses the database: nothing ran, nothing failed.
  [ "$pg_rc" -eq 5 ] && pg_rc=0
fi

# Said again last, where a reader of the log looks, so the lanes' output does not bury it.
[ "$lint_rc" -ne 0 ] && lane "${lint_summary} (see the Lint step above)"
if [ "$sqlite_rc" -ne 0 ]; then exit "$sqlite_rc"; fi
if [ "$pg_rc" -ne 0 ]; then exit "$pg_rc"; fi
exit "$lint_rc"
