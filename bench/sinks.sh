#!/usr/bin/env bash
# Sink throughput: events/s through the sink layer into each sink, per CPU-second of the sensor
# process ("on one core"), wall-clock delivery rate, and peak RSS. Real receivers: SQLite and
# JSONL files, the OTLP receiver built on the official protos (tools/otlp-receiver), a tansu
# Kafka broker (tools/kafka), the webhook receiver (tools/webhook-receiver). The receivers are
# Python (except tansu) and run in their own processes: their CPU is not counted, but they bound
# the wall-clock rate of the network sinks.
#
#   bench/sinks.sh [EVENTS]        default 50000 events per sink
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50000}
TARGET=${CARGO_TARGET_DIR:-target}
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -q -p oisp-sink-bench
BENCH="$TARGET/release/oisp-sink-bench"
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

bash tools/otlp-receiver/setup-venv.sh >/dev/null
bash tools/webhook-receiver/setup-venv.sh >/dev/null
KAFKA_PORT=$(bash tools/kafka/setup-broker.sh start "$T/kafka")
PIDS+=("$(cat "$T/kafka/pid")")

# The OTLP receiver runs until its stdin closes: give it a pipe this script holds open.
mkfifo "$T/otlp.stdin"
exec 7<>"$T/otlp.stdin"
tools/otlp-receiver/.venv/bin/python3 tools/otlp-receiver/receiver.py --out "$T/otlp.jsonl" >"$T/otlp.ready" <"$T/otlp.stdin" &
PIDS+=($!)
tools/webhook-receiver/.venv/bin/python3 tools/webhook-receiver/receiver.py --out "$T/hook.jsonl" --secret bench-secret >"$T/hook.ready" &
PIDS+=($!)
for _ in $(seq 100); do
  grep -q READY "$T/otlp.ready" 2>/dev/null && grep -q listening "$T/hook.ready" 2>/dev/null && break
  sleep 0.1
done
GRPC=$(sed -n 's/.*grpc=\([0-9]*\).*/\1/p' "$T/otlp.ready")
HTTP=$(sed -n 's/.*http=\([0-9]*\).*/\1/p' "$T/otlp.ready")
HOOK=$(sed -n 's/.*\(http:\/\/127.0.0.1:[0-9]*\/\).*/\1/p' "$T/hook.ready")

printf '%-10s %9s %14s %14s %10s %9s\n' sink events "events/CPU-s" "delivered/s" "peak RSS" drained
run() {
  local line
  line=$("$BENCH" "$@" --events "$N")
  python3 - "$line" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print(f"{r['sink']:<10} {r['delivered']:>9} {r['events_per_cpu_s']:>14,.0f} {r['events_per_wall_s']:>14,.0f} {r['peak_rss_mb']:>7.1f} MB {str(r['drained']):>9}")
PY
}
run none
run jsonl
run store
run otlp-grpc "http://127.0.0.1:$GRPC"
run otlp-http "http://127.0.0.1:$HTTP"
run kafka "127.0.0.1:$KAFKA_PORT"
run webhook "$HOOK"
echo "($(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg))"
