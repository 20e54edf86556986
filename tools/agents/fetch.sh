#!/usr/bin/env bash
# Fetches the real AI agents the capture tests run, at pinned versions, into tools/agents/.bin
# (gitignored), from the npm registry: the Claude Code native executable (a stripped Bun binary
# with BoringSSL linked in) of the current pinned release and of 2.1.237, whose SSL_read/SSL_write
# offsets a public tracer reports (a test oracle for the locator), Gemini CLI (a Node
# program) and Codex's native executable (a stripped static-pie Rust binary: rustls on AWS-LC).
# Idempotent.
#
#   tools/agents/fetch.sh        fetch what is missing, print nothing
#   tools/agents/fetch.sh env    then print `export` lines for the tests: OISP_CLAUDE_BIN (the
#                                pinned release), OISP_CLAUDE_BINARIES, OISP_GEMINI_BIN,
#                                OISP_CODEX_BIN
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="$HERE/.bin"
CLAUDE_PINNED=2.1.335
CLAUDE_ORACLE=2.1.237
GEMINI_PINNED=0.61.0
CODEX_PINNED=0.171.0
mkdir -p "$BIN"

fetch_claude() {
  local version=$1 dir="$BIN/claude-$1"
  [ -x "$dir/claude" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@anthropic-ai/claude-code-linux-x64@$version" >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/*.tgz -C "$tmp"
  mv "$tmp/package/claude" "$dir/claude"
  chmod 0755 "$dir/claude"
  rm -rf "$tmp"
}

fetch_gemini() {
  local dir="$BIN/gemini-cli-$1"
  [ -x "$dir/node_modules/.bin/gemini" ] && return 0
  npm install --silent --no-audit --no-fund --prefix "$dir" "@google/gemini-cli@$1" >/dev/null
}

# Codex: the platform package's native executable (the npm launcher only starts it).
fetch_codex() {
  local dir="$BIN/codex-$1"
  [ -x "$dir/codex" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@openai/codex@$1-linux-x64" >/dev/null)
  tar xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$dir"
  mv "$tmp/package/vendor/x86_64-unknown-linux-musl/bin/codex" "$dir/codex"
  chmod 0755 "$dir/codex"
  rm -rf "$tmp"
}

fetch_claude "$CLAUDE_PINNED"
fetch_claude "$CLAUDE_ORACLE"
fetch_gemini "$GEMINI_PINNED"
fetch_codex "$CODEX_PINNED"
if [ "${1:-}" = env ]; then
  echo "export OISP_CLAUDE_BIN=$BIN/claude-$CLAUDE_PINNED/claude"
  echo "export OISP_CLAUDE_BINARIES=$BIN/claude-$CLAUDE_PINNED/claude:$BIN/claude-$CLAUDE_ORACLE/claude"
  echo "export OISP_GEMINI_BIN=$BIN/gemini-cli-$GEMINI_PINNED/node_modules/.bin/gemini"
  echo "export OISP_CODEX_BIN=$BIN/codex-$CODEX_PINNED/codex"
fi
