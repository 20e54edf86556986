#!/usr/bin/env bash
# End-to-end checks of the oisp-sensor CLI as a user runs it: demo → event store → show →
# analyze, JSON Lines with -o/-i, replay, status, bad input, secret redaction, file modes, and the
# costs report against the bundle's prices. Usage: scripts/cli-smoke.sh PATH/TO/oisp-sensor
set -euo pipefail
BIN=$(realpath "${1:?usage: cli-smoke.sh BINARY}")
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# demo writes the event store (here redirected by OISP_STORE) with mode 0600, and JSON Lines
# with -o (also 0600).
export OISP_STORE="$T/state/events.db"
EVENTS="$T/events.jsonl"
set +e
"$BIN" show 2>"$T/nostore.err"; rc0=$?
set -e
check "no store yet: exit 1 and a hint" bash -c "[ $rc0 = 1 ] && grep -q 'no events yet at $OISP_STORE' '$T/nostore.err' && grep -q 'oisp-sensor demo' '$T/nostore.err'"
check "reading does not create the store" test ! -e "$OISP_STORE"
"$BIN" demo -o "$EVENTS" 2>"$T/demo.err"
check "demo writes the store" test -s "$OISP_STORE"
check "store is 0600" test "$(stat -c %a "$OISP_STORE")" = 600
check "store sidecar files (if any) are 0600" bash -c "for f in '$OISP_STORE'-wal '$OISP_STORE'-shm; do [ ! -e \"\$f\" ] || [ \$(stat -c %a \"\$f\") = 600 ] || exit 1; done"
check "demo -o writes JSON Lines" test -s "$EVENTS"
check "events file is 0600" test "$(stat -c %a "$EVENTS")" = 600
check "demo reports what it did" grep -q "AI calls" "$T/demo.err"
# Masked secrets keep an 8-character prefix (e.g. "sk-proj-", "TESTKEYm"); nothing after it.
check "no API key reaches the events file" bash -c "! grep -Eq 'TESTKEY[A-Za-z0-9_-]{2}' '$EVENTS'"
# The store keeps the 8-character prefix in its own column, followed in the row by the key's
# hash column ("sha256:…"): that adjacency is not a key.
check "no API key reaches the store" bash -c "! grep -aPq 'TESTKEY[A-Za-z0-9_-](?!sha256:)[A-Za-z0-9_-]' '$OISP_STORE'"
"$BIN" show --json >"$T/all.jsonl"
check "store holds exactly the events written as JSON Lines" bash -c "diff <(sort '$T/all.jsonl') <(sort '$EVENTS') >/dev/null"
"$BIN" demo 2>/dev/null
check "a second demo adds no duplicates" test "$("$BIN" show --json | wc -l)" = "$(wc -l <"$EVENTS")"

# redaction profiles: minimal keeps metadata only; full keeps content; secrets masked in both.
"$BIN" demo --no-store --redaction minimal -o "$T/minimal.jsonl" 2>/dev/null
check "minimal redaction removes content" bash -c "! grep -q 'This is a mock reply' '$T/minimal.jsonl' && grep -q total_tokens '$T/minimal.jsonl'"
"$BIN" demo --no-store --redaction full -o "$T/full.jsonl" 2>/dev/null
check "full redaction keeps content, masks secrets" bash -c "grep -q 'This is a mock reply' '$T/full.jsonl' && ! grep -Eq 'TESTKEY[A-Za-z0-9_-]{2}' '$T/full.jsonl'"

# show: readable timeline with model, tokens, cost; no colour when NO_COLOR or not a TTY.
NO_COLOR=1 "$BIN" show >"$T/show.txt"
check "show names models" grep -q "gpt-4o-mini" "$T/show.txt"
check "show prints tokens and cost" grep -Eq "tok · \\\$[0-9.]+" "$T/show.txt"
check "show prints time to first token" grep -q "ttft" "$T/show.txt"
check "show has no escape codes" bash -c "! grep -q $'\\x1b' '$T/show.txt'"
"$BIN" show --type agent.tool_call --json >"$T/tools.jsonl"
check "show --type filters" python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$T/tools.jsonl')]
sys.exit(0 if ev and all(e['event_type']=='agent.tool_call' for e in ev) else 1)"
"$BIN" show --provider anthropic --json --limit 3 >"$T/anth.jsonl"
check "show --provider --limit" test "$(wc -l <"$T/anth.jsonl")" = 3
"$BIN" demo --no-store -o - 2>/dev/null | "$BIN" show -i - --process curl >"$T/pipe.txt"
check "demo -o - | show reads a pipe" grep -q "curl\[" "$T/pipe.txt"
# agent sessions: the demo's SDK scripts and curl calls are sessions of their own.
NO_COLOR=1 "$BIN" show --sessions >"$T/sessions.txt"
check "show --sessions lists the scripts' sessions" grep -q "py_anthropic.py" "$T/sessions.txt"
NO_COLOR=1 "$BIN" show --trace "$(grep -o 'ses_[0-9A-Z]*' "$T/sessions.txt" | head -1)" >"$T/trace.txt"
check "show --trace draws a session's tree" bash -c "grep -q '^agent ' '$T/trace.txt' && grep -q 'AI call' '$T/trace.txt' && grep -q '└─ .* end after' '$T/trace.txt'"
code=0; "$BIN" show --trace no-such-session >/dev/null 2>"$T/trace.err" || code=$?
check "show --trace of an unknown id: exit 1 and why" bash -c "[ $code = 1 ] && grep -q 'no agent session matches' '$T/trace.err'"
"$BIN" analyze --report sessions --format json >"$T/sessions.json"
check "analyze --report sessions" python3 -c "
import json,sys
rows=json.load(open('$T/sessions.json'))['rows']
sys.exit(0 if rows and all(r['ai calls'] >= 1 for r in rows) else 1)"
"$BIN" show --grep PARIS --json >"$T/grep.jsonl"
"$BIN" show -i "$EVENTS" --grep paris --json >"$T/grep-file.jsonl"
check "show --grep finds prompt/response text, any case" python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$T/grep.jsonl')]
sys.exit(0 if ev and all('paris' in json.dumps(e['data']).lower() for e in ev) else 1)"
check "show --grep: store and JSON Lines agree" test "$(wc -l <"$T/grep.jsonl")" = "$(wc -l <"$T/grep-file.jsonl")"
check "show --grep text is literal (FTS syntax is safe)" "$BIN" show --grep '"a" OR NEAR(b) *' --json
"$BIN" show --model claude --json >"$T/model.jsonl"
check "show --model filters" python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$T/model.jsonl')]
sys.exit(0 if ev and all('claude' in e['data']['model']['id'] for e in ev) else 1)"
"$BIN" show -i "$OISP_STORE" -n 3 >"$T/named.txt"
check "show -i STORE reads a store named on the command line" test "$(grep -c '^[0-9]' "$T/named.txt")" = 3
check "show --since in the future is empty" bash -c "[ -z \"\$('$BIN' show --since 2999-01-01 2>/dev/null)\" ]"

# show --follow prints events appended after it started.
head -20 "$EVENTS" >"$T/follow.jsonl"
NO_COLOR=1 "$BIN" show -i "$T/follow.jsonl" --follow --type ai.response >"$T/follow.out" &
fpid=$!
sleep 1
before=$(wc -l <"$T/follow.out")
tail -n +21 "$EVENTS" >>"$T/follow.jsonl"
sleep 1.5
kill "$fpid"; wait "$fpid" 2>/dev/null || true
check "show --follow picks up appended events" test "$(wc -l <"$T/follow.out")" -gt $((before + 20))

# show --follow on the store prints events stored after it started.
"$BIN" replay fixtures/captures/curl-h1.oraw --store "$T/follow.db" -o /dev/null 2>/dev/null
OISP_STORE="$T/follow.db" "$BIN" show --follow --json >"$T/follow-store.out" &
fpid=$!
sleep 1
before=$(wc -l <"$T/follow-store.out")
"$BIN" demo --store "$T/follow.db" 2>/dev/null
sleep 1.5
kill "$fpid"; wait "$fpid" 2>/dev/null || true
check "show --follow on the store picks up new events" test "$(wc -l <"$T/follow-store.out")" -gt $((before + 100))

# analyze: costs total equals usage × bundle prices, recomputed here from the bundle itself.
"$BIN" analyze --report costs --format json >"$T/costs.json"
check "analyze costs equals usage x bundle prices" python3 - "$EVENTS" "$T/costs.json" <<'PY'
import json, sys
bundle = json.load(open("vendor/oisp-spec/spec/v0.1/bundle.json"))["models"]
expected = 0.0
priced = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event_type"] != "ai.response":
        continue
    u = e["data"].get("usage") or {}
    key = (e.get("attrs") or {}).get("pricing", {}).get("model_key")
    if not key:
        assert "total_cost_usd" not in u, e
        continue
    m = bundle[key]
    p, c = u.get("prompt_tokens", 0), u.get("completion_tokens", 0)
    cached, reasoning = u.get("cached_tokens", 0), u.get("reasoning_tokens", 0)
    rin, rout = m.get("input_cost_per_1k") or 0, m.get("output_cost_per_1k") or 0
    cost = ((p - cached) * rin + cached * (m.get("cache_read_cost_per_1k") or rin)
            + (c - reasoning) * rout + reasoning * (m.get("reasoning_cost_per_1k") or rout)) / 1000
    assert abs(cost - u["total_cost_usd"]) < 1e-12, (key, cost, u)
    expected += cost
    priced += 1
total = json.load(open(sys.argv[2]))["totals"]["cost_usd"]
assert priced > 20, priced
assert abs(total - expected) < 1e-6, (total, expected)
print(f"     {priced} priced responses, total ${total:.6f} = recomputed ${expected:.6f}")
PY
for r in summary providers models tools processes; do
  for f in text json csv; do
    "$BIN" analyze --report $r --format $f >"$T/a.$r.$f" || bad "analyze $r $f"
  done
done
check "analyze csv has a header" grep -q "^provider,calls" "$T/a.providers.csv"
check "analyze json parses" python3 -c "import json; json.load(open('$T/a.models.json'))"

# replay of a fixture equals what demo decoded for it.
"$BIN" replay fixtures/captures/curl-h2.oraw -o "$T/h2.jsonl" 2>/dev/null
check "replay writes events" test "$(grep -c '"ai.response"' "$T/h2.jsonl")" = 7

# bad input: clear errors, documented exit codes, never a panic.
head -c 5000 fixtures/captures/curl-h1.oraw >"$T/cut.oraw"
set +e
"$BIN" replay "$T/cut.oraw" -o "$T/cut.jsonl" 2>"$T/cut.err"; rc=$?
"$BIN" replay /etc/hostname 2>"$T/magic.err"; rc2=$?
"$BIN" show -i /nonexistent 2>"$T/nofile.err"; rc3=$?
"$BIN" show --bogus 2>/dev/null; rc4=$?
"$BIN" status >/dev/null; rc5=$?
set -e
check "truncated capture: exit 1 with offset" bash -c "[ $rc = 1 ] && grep -q 'truncated' '$T/cut.err'"
check "truncated capture: events before the cut kept" test -s "$T/cut.jsonl"
check "not a capture: clear error" bash -c "[ $rc2 = 1 ] && grep -q 'bad magic' '$T/magic.err'"
check "missing events file: exit 1 and a hint" bash -c "[ $rc3 = 1 ] && grep -q 'oisp-sensor demo' '$T/nofile.err'"
check "unknown flag: exit 2" test "$rc4" = 2
check "status: exit 0 or 3" bash -c "[ $rc5 = 0 ] || [ $rc5 = 3 ]"
check "status --json parses" bash -c "'$BIN' status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"kernel\"]'"
printf '{"not":"an event"}\n' >"$T/mixed.jsonl"; head -2 "$EVENTS" >>"$T/mixed.jsonl"
"$BIN" show -i "$T/mixed.jsonl" --json >"$T/mixed.out" 2>"$T/mixed.err"
check "bad lines are reported, good ones shown" bash -c "grep -q 'line 1' '$T/mixed.err' && [ \$(wc -l <'$T/mixed.out') = 2 ]"

echo "cli-smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]
