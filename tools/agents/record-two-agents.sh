#!/usr/bin/env bash
# Records fixtures/agents/two-agents.oraw (as root): `record --raw-out` while Claude Code runs two
# Bash commands in one turn (parallel tool calls) and Codex runs one, at the same time, against
# the mock provider. Copy WORKDIR/cap.oraw to fixtures/agents/two-agents.oraw afterwards.
set -e
cd "$(dirname "$0")/../.."
eval $(bash tools/agents/fetch.sh env)
export PATH="$(dirname $OISP_CLAUDE_BIN):$(dirname $OISP_CODEX_BIN):$PATH"
R=${1:?usage: record-two-agents.sh WORKDIR (the capture is WORKDIR/cap.oraw)}
mkdir -p "$R"
(cd tools/mock-provider && exec python3 mock.py --port 0 --plain-port 0 --quiet --port-file $R/port.json --ca-dir $R/ca) &
MOCK=$!
for i in $(seq 50); do [ -s $R/port.json ] && break; sleep 0.1; done
PORT=$(python3 -c "import json;print(json.load(open('$R/port.json'))['https_port'])")
BASE=https://localhost:$PORT
OISP_CONFIG= OISP_STATE_FILE=$R/state.json target/debug/oisp-sensor record --no-store --raw-out $R/cap.oraw -o $R/ev.jsonl 2>$R/rec.err &
REC=$!
for i in $(seq 100); do grep -q capturing $R/rec.err 2>/dev/null && break; sleep 0.2; done
mkdir -p $R/home $R/work $R/codex-home $R/proj
cd $R/proj
CA=$R/ca/ca.pem
A=$R/proj/claude-a.txt; B=$R/proj/claude-b.txt; C=$R/work/codex-c.txt
P1="Run both at once. [[parallel]] [[tool:Bash {\"command\": \"echo alpha-from-claude | tee $A\", \"description\": \"write a\"}]] [[tool:Bash {\"command\": \"echo beta-from-claude | tee $B\", \"description\": \"write b\"}]]"
P2="Run this for me. [[tool:exec_command {\"cmd\": \"echo gamma-from-codex | tee $C\"}]]"
cat > $R/codex-home/config.toml <<EOT
model = "gpt-5-codex"
model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "$BASE/v1"
env_key = "MOCK_OPENAI_KEY"
wire_api = "responses"
supports_websockets = false
EOT
export SSL_CERT_FILE=$CA NODE_EXTRA_CA_CERTS=$CA
(ANTHROPIC_BASE_URL=$BASE ANTHROPIC_API_KEY=sk-ant-api03-TESTKEY0123456789 IS_SANDBOX=1 HOME=$R/home CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 timeout 120 claude -p "$P1" --dangerously-skip-permissions > $R/claude.out 2>&1) &
CL=$!
(cd $R/work && CODEX_HOME=$R/codex-home MOCK_OPENAI_KEY=sk-mock-codex-key-0123456789 CODEX_CA_CERTIFICATE=$CA timeout 120 codex exec --skip-git-repo-check --dangerously-bypass-approvals-and-sandbox "$P2" > $R/codex.out 2>&1) &
CO=$!
wait $CL $CO
sleep 1
kill -TERM $REC; wait $REC || true
kill $MOCK
cat $A $B $C
ls -la $R/cap.oraw
