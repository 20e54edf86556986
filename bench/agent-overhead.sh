#!/usr/bin/env bash
# What `record` costs a real agent (as root): the same scripted Claude Code task — the model asks
# for one shell command that writes a file, then answers its result — run N times without and N
# times with `oisp-sensor record` on its defaults, interleaved (without, with, without, …) against
# the project's mock provider, in one run. Prints each run's wall-clock time, the mean ratio
# with/without, and the CPU the sensor used while the task ran (from /proc/PID/stat, so
# `record`'s start-up, which happens before the task, is not counted), and checks that each
# captured run holds the agent's AI calls.
#
# Usage: sudo bench/agent-overhead.sh [N]   (default 10; builds the release binary unless
# OISP_SENSOR points at one; fetches Claude Code with tools/agents/fetch.sh)
set -euo pipefail
trap 'echo "agent-overhead.sh: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR

N=${1:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "agent-overhead.sh: needs root (eBPF capture)" >&2
    exit 1
fi
if [ -z "${OISP_SENSOR:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p oisp-sensor)
    OISP_SENSOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/oisp-sensor"
fi
eval "$(bash "$ROOT/tools/agents/fetch.sh" env)"
CLAUDE_DIR=$(dirname "$OISP_CLAUDE_BIN")

TMP=$(mktemp -d /tmp/oisp-agent-overhead.XXXXXX)
MOCK_PID="" REC_PID=""
cleanup() {
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null || true
    [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

python3 "$ROOT/tools/mock-provider/mock.py" --port 0 --plain-port 0 --quiet \
    --port-file "$TMP/port.json" --ca-dir "$TMP/ca" >/dev/null 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$TMP/port.json" ] && break; sleep 0.1; done
PORT=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['https_port'])" "$TMP/port.json")

# One task: prints its wall-clock seconds.
task() {
    local i=$1 work="$TMP/work-$1"
    mkdir -p "$work" "$TMP/home"
    local cmd="echo oisp-bench-$i | tee $work/out.txt"
    local prompt="Run this for me. [[tool:Bash {\"command\":\"$cmd\",\"description\":\"write a file\"}]]"
    local t0 t1
    t0=$(date +%s.%N)
    (cd "$work" && PATH="$CLAUDE_DIR:$PATH" IS_SANDBOX=1 HOME="$TMP/home" \
        ANTHROPIC_BASE_URL="https://localhost:$PORT" \
        ANTHROPIC_API_KEY=sk-ant-api03-BENCHKEY0123456789abcdefghijklmnopqrstuvwxyz-AA \
        NODE_EXTRA_CA_CERTS="$TMP/ca/ca.pem" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
        DISABLE_TELEMETRY=1 timeout 120 claude -p "$prompt" --dangerously-skip-permissions \
        >"$work/claude.out" 2>&1)
    t1=$(date +%s.%N)
    grep -q "oisp-bench-$i" "$work/out.txt" || { echo "agent-overhead.sh: run $i: the task failed" >&2; exit 1; }
    awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.6f\n", a - b }'
}

# CPU seconds (user + system) of a process so far.
cpu_of() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

printf '%-5s %-8s %10s %14s %10s\n' run mode seconds "sensor CPU s" "AI calls"
without=() with=() cpus=()
for i in $(seq "$N"); do
    s=$(task "a$i")
    without+=("$s")
    printf '%-5s %-8s %10.3f %14s %10s\n' "$i" without "$s" - -

    PATH="$CLAUDE_DIR:$PATH" OISP_CONFIG= OISP_STORE="$TMP/events.db" OISP_STATE_FILE="$TMP/state.json" \
        "$OISP_SENSOR" record --no-store -o "$TMP/events-$i.jsonl" 2>"$TMP/record-$i.err" &
    REC_PID=$!
    for _ in $(seq 300); do grep -q capturing "$TMP/record-$i.err" 2>/dev/null && break; sleep 0.1; done
    c0=$(cpu_of "$REC_PID")
    s=$(task "b$i")
    sleep 0.3 # the last records reach userspace
    c1=$(cpu_of "$REC_PID")
    kill -TERM "$REC_PID"
    wait "$REC_PID" || true
    REC_PID=""
    calls=$(grep -c '"event_type":"ai.response"' "$TMP/events-$i.jsonl" || true)
    [ "$calls" -ge 2 ] || { echo "agent-overhead.sh: run $i: only $calls AI calls captured" >&2; exit 1; }
    cpu=$(awk -v a="$c1" -v b="$c0" 'BEGIN { printf "%.6f\n", a - b }')
    with+=("$s")
    cpus+=("$cpu")
    printf '%-5s %-8s %10.3f %14.3f %10s\n' "$i" with "$s" "$cpu" "$calls"
done

python3 - "${without[*]}" "${with[*]}" "${cpus[*]}" <<'EOF'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
c = [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.mean(a), statistics.mean(b)
print(f"\nwithout: mean {ma:.3f} s (median {statistics.median(a):.3f}); "
      f"with record: mean {mb:.3f} s (median {statistics.median(b):.3f})")
print(f"ratio with/without: {mb / ma:.4f} ({(mb / ma - 1) * 100:+.1f}% wall clock); "
      f"sensor CPU per task: {statistics.mean(c):.3f} s")
EOF
