#!/usr/bin/env bash
# The web UI on a large store: fills a store with N events (default 1,000,000; copies of real
# decoded events from `demo` and the two-agent recording), serves it with `oisp-sensor web`
# (release build), and prints API response times and headless-chromium paint times.
# Usage: tools/web-test/bench.sh [N]   (needs `npm ci --prefix tools/web-test` and chromium)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -q -p oisp-sensor
cargo build --release --locked -q -p oisp-web --example fill_store
B=$TARGET/release/oisp-sensor
work=$(mktemp -d)
web=
trap '[ -n "$web" ] && kill "$web" 2>/dev/null; rm -rf "$work"' EXIT
"$B" demo --no-store -o "$work/demo.jsonl" 2>/dev/null
"$B" replay fixtures/agents/two-agents.oraw --no-store -o "$work/agents.jsonl" 2>/dev/null
# OISP_BENCH_STORE: keep the filled store there (and reuse it when it exists)
big=${OISP_BENCH_STORE:-$work/big.db}
[ -f "$big" ] || "$TARGET/release/examples/fill_store" "$big" "$N" "$work/demo.jsonl" "$work/agents.jsonl"
"$B" web -i "$big" --web-addr 127.0.0.1:0 2>"$work/web.log" &
web=$!
for _ in $(seq 100); do grep -q "web UI at" "$work/web.log" && break; sleep 0.1; done
url=$(sed -n 's/.*web UI at \(http[^ ]*\)\/$/\1/p' "$work/web.log")
OISP_URL=$url node tools/web-test/bench.mjs
