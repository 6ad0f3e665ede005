#!/usr/bin/env bash
# Runs every test: set-up first (it installs only what is missing), then pytest with any arguments given,
# in two lanes: SQLite (the single-machine default), then PostgreSQL (the team server's database) when a
# server answers on 127.0.0.1:5432 or at STAGECAST_TEST_DATABASE_URL. The PostgreSQL lane runs the tests
# that use the database (pytest-django makes test_<name> there); a machine with no server skips it.
# Each lane ends with pytest's own summary line (its count and time).
set -uo pipefail
cd "$(dirname "$0")"
STAGECAST_SETUP_TESTS=1 bash scripts/setup.sh || exit $?

lane() { if [ -t 1 ]; then printf '\n\033[1m==> %s\033[0m\n' "$*"; else printf '\n==> %s\n' "$*"; fi; }

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

if [ "$sqlite_rc" -ne 0 ]; then exit "$sqlite_rc"; fi
exit "$pg_rc"
