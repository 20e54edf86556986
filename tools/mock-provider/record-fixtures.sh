#!/usr/bin/env bash
# Records the raw-capture fixtures in fixtures/captures/ by driving real clients against the mock.
#
#   tools/mock-provider/record-fixtures.sh [GROUP...]     (default: every group)
#
# For each group: start mock.py in recording mode on free ports, run the group's client
# scenarios (each must succeed), stop the mock with SIGTERM, check the recording (seq
# contiguity, open/close pairing) and move it to fixtures/captures/GROUP.oraw. Finally the
# README there is regenerated with each group's scenarios and the client versions.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/fixtures/captures}
ALL_GROUPS=(openai-python anthropic-python openai-node curl-h1 curl-h2 gemini-curl ollama-curl compat-curl
  keepalive-concurrent large-prompt websocket-python)
# Recorded only when named: they need a client that is not installed by setup-venv.sh.
EXTRA_GROUPS=(codex-websocket)
GROUPS_TO_RUN=("$@")
[[ ${#GROUPS_TO_RUN[@]} -gt 0 ]] || GROUPS_TO_RUN=("${ALL_GROUPS[@]}")

"$HERE/setup-venv.sh"
PY="$HERE/.venv/bin/python3"
"$PY" -m unittest -q "$HERE/test_oraw.py" 2>&1 | tail -3

WORK=$(mktemp -d)
MOCK_PID=
cleanup() {
  if [[ -n $MOCK_PID ]] && kill -0 "$MOCK_PID" 2>/dev/null; then kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$OUT" "$WORK/logs"

# Trust only the mock's CA: override the machine-wide bundle variables (see shared FIELD-NOTES).
CA_DIR="$WORK/ca"
export MOCK_CA="$CA_DIR/ca.pem"
export SSL_CERT_FILE="$MOCK_CA" REQUESTS_CA_BUNDLE="$MOCK_CA" CURL_CA_BUNDLE="$MOCK_CA" NODE_EXTRA_CA_CERTS="$MOCK_CA"
unset SSL_CERT_DIR
export PYTHONDONTWRITEBYTECODE=1

group_cmds() {
  case $1 in
    openai-python) echo "$PY clients/py_openai.py" ;;
    anthropic-python) echo "$PY clients/py_anthropic.py" ;;
    openai-node) echo "node clients/node_openai.mjs" ;;
    curl-h1) echo "bash clients/curl_scenarios.sh h1" ;;
    curl-h2) echo "bash clients/curl_scenarios.sh h2" ;;
    gemini-curl) echo "bash clients/curl_scenarios.sh gemini" ;;
    ollama-curl) echo "bash clients/curl_scenarios.sh ollama" ;;
    compat-curl) echo "bash clients/curl_scenarios.sh compat" ;;
    keepalive-concurrent)
      echo "$PY clients/py_misc.py keepalive_sequential concurrent_5"
      echo "bash clients/curl_scenarios.sh keepalive" ;;
    large-prompt) echo "$PY clients/py_misc.py large_prompt_2mb" ;;
    websocket-python) echo "$PY clients/py_realtime.py" ;;
    codex-websocket) echo "bash clients/codex_ws.sh" ;;
    *) echo "unknown group $1" >&2; return 1 ;;
  esac
}

record_group() {
  local g=$1 rec="$WORK/$1.oraw" ports="$WORK/$1.ports"
  echo "== $g"
  "$PY" "$HERE/mock.py" --port 0 --plain-port 0 --port-file "$ports" --ca-dir "$CA_DIR" \
    --record "$rec" --note "group=$g" >"$WORK/logs/$g.mock.out" 2>"$WORK/logs/$g.mock.err" &
  MOCK_PID=$!
  for _ in $(seq 100); do [[ -s $ports ]] && break; sleep 0.1; done
  [[ -s $ports ]] || { cat "$WORK/logs/$g.mock.err"; echo "mock did not start" >&2; return 1; }
  MOCK_HTTPS_PORT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["https_port"])' "$ports")
  MOCK_HTTP_PORT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_port"])' "$ports")
  export MOCK_HTTPS_PORT MOCK_HTTP_PORT
  local ok=1 cmd
  while IFS= read -r cmd; do
    (cd "$HERE" && $cmd) | tee -a "$WORK/logs/$g.scenarios" || ok=0
  done < <(group_cmds "$g")
  kill -TERM "$MOCK_PID"
  wait "$MOCK_PID" || { echo "mock exited with an error" >&2; ok=0; }
  MOCK_PID=
  if [[ $ok -ne 1 ]]; then
    echo "group $g: a scenario failed; mock log:" >&2
    tail -40 "$WORK/logs/$g.mock.err" >&2
    return 1
  fi
  "$PY" "$HERE/oraw.py" check "$rec"
  mv "$rec" "$OUT/$g.oraw"
  grep '^ok ' "$WORK/logs/$g.scenarios" | sed -E 's/^ok +(scenario_)?//; s/ \([0-9]+ ms\)//' >"$OUT/$g.scenarios.txt"
}

for g in "${GROUPS_TO_RUN[@]}"; do
  record_group "$g"
done

# ---- README
OPENAI_PY=$("$PY" -c 'import openai; print(openai.__version__)')
ANTHROPIC_PY=$("$PY" -c 'import anthropic; print(anthropic.__version__)')
OPENAI_NODE=$(node -p 'require("'"$HERE"'/node_modules/openai/package.json").version' 2>/dev/null || echo "n/a")
{
  cat <<EOR
# Raw capture fixtures

Each \`.oraw\` file here is a raw capture (format: \`docs/raw-format.md\`) recorded by the mock
provider (\`tools/mock-provider/mock.py --record\`) while real, official clients talked to it over
TLS (and plain HTTP for Ollama). Records are in the **client's view**: \`ConnOpen\` role client,
source \`MockRecorder\`, local = the client's address, egress = request bytes; pid/tid are the client
process (found through /proc), and each client process has a \`ProcessExec\` record before its
first connection. Chunk boundaries are the server's real read/write boundaries. API keys are fake
(\`sk-proj-TESTKEY…\`, \`sk-ant-api03-TESTKEY…\`, \`AIzaSyTESTKEY…\`, …): decoders must redact them.

Clients: Python $(python3 -c 'import platform; print(platform.python_version())') with openai==$OPENAI_PY and anthropic==$ANTHROPIC_PY (httpx2, system OpenSSL,
ALPN http/1.1 only), Node $(node --version 2>/dev/null) with npm openai@$OPENAI_NODE (fetch/undici, OpenSSL linked into node),
$(curl --version | head -1 | cut -d' ' -f1-2) (nghttp2; \`--http1.1\` / \`--http2\`).

Re-record (needs network access to PyPI and npm for the first setup):

    tools/mock-provider/record-fixtures.sh                 # every group
    tools/mock-provider/record-fixtures.sh curl-h2 ollama-curl   # some groups

Inspect: \`python3 tools/mock-provider/oraw.py dump FILE [--full|--no-data]\`,
\`python3 tools/mock-provider/oraw.py check FILE\`.

Response text, ids and token counts are deterministic functions of the request; \`date\` headers,
\`created\` fields and timestamps are real. Non-streaming JSON bodies of 256 bytes or more are
gzip-encoded when the client sends \`Accept-Encoding: gzip\` (the SDKs do; curl only with \`--compressed\`).

Chunk boundaries are those of the mock's reads, not the client's writes: e.g. the Python SDK's
request head and the start of its body arrive in one read, and a 2 MiB body arrives in reads of at
most 256 KiB. A capture at the client's TLS library (eBPF) sees the client's own write sizes.
curl negotiates \`h2\` (ALPN offers h2 and http/1.1); the Python SDKs and Node fetch offer only
\`http/1.1\`. Node fetch keeps connections alive between SDK calls; the Python SDK opens one
connection per client instance. Each \`X.oraw\` has an \`X.scenarios.txt\` with the scenario results.

## Files
EOR
  for g in "${ALL_GROUPS[@]}" "${EXTRA_GROUPS[@]}"; do
    [[ -f $OUT/$g.oraw ]] || continue
    size=$(stat -c %s "$OUT/$g.oraw")
    echo
    echo "### \`$g.oraw\` ($(( (size + 1023) / 1024 )) KiB)"
    echo
    case $g in
      openai-python) echo "Python \`openai\` SDK, HTTP/1.1, SNI localhost." ;;
      anthropic-python) echo "Python \`anthropic\` SDK (sends \`Authorization: Bearer\`), HTTP/1.1, SNI localhost." ;;
      openai-node) echo "npm \`openai\` SDK under Node (fetch), HTTP/1.1, SNI localhost." ;;
      curl-h1) echo "curl \`--http1.1\`: OpenAI and Anthropic (\`x-api-key\`) endpoints." ;;
      curl-h2) echo "curl \`--http2\`: the same requests as curl-h1 over HTTP/2." ;;
      gemini-curl) echo "curl: Gemini generateContent/streamGenerateContent; SNI generativelanguage.googleapis.com (via --resolve) over h2, localhost over h1." ;;
      ollama-curl) echo "curl: Ollama native API over plain HTTP (source still MockRecorder, no SNI/ALPN) and one over HTTPS." ;;
      compat-curl) echo "curl: OpenAI-compatible providers with their real host names as SNI/Host (via --resolve)." ;;
      keepalive-concurrent) echo "Connection reuse and concurrency: Python SDK keep-alive and 5 parallel connections; curl h1 keep-alive; curl h2 5 multiplexed streams on one connection." ;;
      large-prompt) echo "Python \`openai\` SDK, one non-streaming chat request with a 2 MiB user message." ;;
      codex-websocket) echo "Codex (\`codex exec\`, rustls) with \`supports_websockets = true\`: the Responses API over WebSocket (permessage-deflate offered) — a \`generate: false\` prewarm, the turn that calls exec_command, the turn with its output (\`previous_response_id\`). Not in the default groups: needs the Codex binary (tools/agents/fetch.sh)." ;;
      websocket-python) echo "WebSocket over HTTP/1.1 upgrades: the Python \`openai\` SDK's Realtime client (\`client.realtime.connect\`, websockets 15; no compression offered by default, permessage-deflate when \`max_size\` is set: the function-call scenario) and a raw \`websockets\` client sending Responses \`response.create\` messages (permessage-deflate, 12-bit windows)." ;;
    esac
    echo
    if [[ -f $OUT/$g.scenarios.txt ]]; then sed 's/^/- /' "$OUT/$g.scenarios.txt"; fi
  done
} >"$OUT/README.md"
echo "fixtures written to $OUT:"
ls -la "$OUT"
