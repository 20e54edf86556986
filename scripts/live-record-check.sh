#!/usr/bin/env bash
# Records fresh captures with the real clients (official openai/anthropic Python SDKs, the openai
# npm SDK, curl over HTTP/1.1 and HTTP/2) against the mock provider, decodes each with the
# binary, and checks every call decodes to one ai.request + one ai.response with no warnings and
# the same calls as the committed fixture. Catches client releases that change what they send.
# Usage: scripts/live-record-check.sh PATH/TO/oisp-sensor
set -euo pipefail
BIN=$(realpath "${1:?usage: live-record-check.sh BINARY}")
cd "$(dirname "$0")/.."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
OUT="$OUT" tools/mock-provider/record-fixtures.sh >"$OUT/record.log" 2>&1 || {
  tail -40 "$OUT/record.log"; echo "live-record-check: recording with real clients failed"; exit 1; }
pass=0; fail=0
for f in "$OUT"/*.oraw; do
  g=$(basename "$f" .oraw)
  "$BIN" replay "$f" -o "$OUT/$g.jsonl" 2>/dev/null
  if python3 - "$OUT/$g.jsonl" "fixtures/golden/$g.jsonl" "$g" <<'PY'
import json, sys, collections
def calls(path):
    c = collections.Counter(); models = []
    for line in open(path):
        e = json.loads(line); t = e["event_type"]; c[t] += 1
        if t == "ai.response":
            models.append(((e["data"].get("model") or {}).get("id"), e["data"].get("status_code")))
    return c, models
got, got_models = calls(sys.argv[1])
assert got["sensor.warning"] == 0, f"{sys.argv[3]}: {got['sensor.warning']} warnings"
assert got["ai.request"] == got["ai.response"] > 0, got
try:
    want, want_models = calls(sys.argv[2])
except FileNotFoundError:
    want, want_models = got, got_models  # no golden for this group (large prompt)
for t in ("ai.request", "ai.response", "agent.tool_call", "agent.tool_result"):
    assert got[t] == want[t], (sys.argv[3], t, got[t], want[t])
assert sorted(map(str, got_models)) == sorted(map(str, want_models)), (got_models, want_models)
print(f"ok   {sys.argv[3]}: {got['ai.request']} calls decoded from a fresh recording")
PY
  then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $g"; fi
done
echo "live-record-check: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -ge 10 ]
