#!/usr/bin/env bash
# Codex (`codex exec`, pinned by tools/agents/fetch.sh) with `supports_websockets = true`: the
# Responses API over WebSocket, one scripted exec_command step. Needs MOCK_HTTPS_PORT and
# MOCK_CA (record-fixtures.sh sets them) and the binary in OISP_CODEX_BIN or tools/agents/.bin.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CODEX=${OISP_CODEX_BIN:-$(ls "$HERE"/../agents/.bin/codex-*/codex 2>/dev/null | tail -1)}
[[ -x $CODEX ]] || { echo "codex_ws.sh: no Codex binary (run tools/agents/fetch.sh or set OISP_CODEX_BIN)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home" "$WORK/work"
cat >"$WORK/home/config.toml" <<EOC
model = "gpt-5-codex"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "https://localhost:$MOCK_HTTPS_PORT/v1"
env_key = "MOCK_OPENAI_KEY"
wire_api = "responses"
supports_websockets = true
EOC
out="$WORK/work/out.txt"
prompt='Run this for me. [[tool:exec_command {"cmd": "echo oisp-ws-check | tee out.txt"}]]'
(cd "$WORK/work" && CODEX_HOME="$WORK/home" MOCK_OPENAI_KEY=sk-mock-codex-key-0123456789 \
  CODEX_CA_CERTIFICATE="$MOCK_CA" timeout 120 "$CODEX" exec --skip-git-repo-check \
  --dangerously-bypass-approvals-and-sandbox "$prompt" >"$WORK/codex.out" 2>&1) ||
  { cat "$WORK/codex.out" >&2; exit 1; }
[[ $(cat "$out" 2>/dev/null) == oisp-ws-check ]] || { cat "$WORK/codex.out" >&2; echo "FAIL codex_websocket_exec"; exit 1; }
echo "ok   codex_websocket_exec: $("$CODEX" --version 2>/dev/null | head -1), ran: echo oisp-ws-check | tee out.txt"
