#!/usr/bin/env bash
# Installs Claude Code, pinned, into .stagecast/tools (npm install --prefix), for agent-CLI stages and
# their tests; does nothing when that version is already there. Prints the binary's path on its last line.
#
# The pin: every release since 2.1.198 declares `engines: node >=22`, but the package is a native
# binary (bin/claude.exe, copied from @anthropic-ai/claude-code-linux-x64 by a small postinstall that
# runs fine on Node 20), so npm only warns (EBADENGINE) and the CLI runs on Node 20. Checked on Node
# 20.20.2: 2.1.330 and 2.1.332 (the latest) install and stream through the tests. Override with
# CLAUDE_CODE_VERSION=x.y.z.
#
# Exits 0 with a clear message, and installs nothing, when npm is missing or the registry cannot be
# reached: stages with `tool: claude` then say that Claude Code is not installed.
set -uo pipefail
cd "$(dirname "$0")/.."
VERSION="${CLAUDE_CODE_VERSION:-2.1.332}"
PREFIX="$PWD/.stagecast/tools"
BIN="$PREFIX/node_modules/.bin/claude"
PKG_JSON="$PREFIX/node_modules/@anthropic-ai/claude-code/package.json"

installed_version() {
  [ -x "$BIN" ] && [ -f "$PKG_JSON" ] || return 1
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG_JSON" | head -n 1
}

if [ "$(installed_version)" = "$VERSION" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "Claude Code $VERSION is already installed."
  echo "$BIN"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed, so Claude Code was not installed (apt-get install nodejs npm, then run this again)."
  exit 0
fi

mkdir -p "$PREFIX"
echo "Installing @anthropic-ai/claude-code@$VERSION into $PREFIX ..."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# --no-save and no package.json of ours: the prefix is a tool cache, not a project.
if ! timeout 600 npm install --prefix "$PREFIX" --no-save --no-audit --no-fund --loglevel=error \
  "@anthropic-ai/claude-code@$VERSION" >"$log" 2>&1; then
  echo "Claude Code could not be installed: npm failed (the registry may be unreachable). npm said:"
  { grep -E '^npm error (code|errno|network|request|notarget|404)' "$log" || tail -n 5 "$log"; } | head -n 5 | sed 's/^/    /'
  exit 0
fi

if ! version_out="$("$BIN" --version 2>&1)"; then
  echo "Claude Code $VERSION was installed but does not run on this machine: $version_out"
  exit 0
fi
echo "Installed Claude Code $version_out."
echo "$BIN"
