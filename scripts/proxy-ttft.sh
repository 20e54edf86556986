#!/usr/bin/env bash
# Time to first token and total time of streamed chat completions from the mock provider, direct
# and through `oisp-sensor proxy` (intercepting, decoding into a JSONL file), over HTTP/1.1 and
# HTTP/2, with a fresh connection per request (TLS handshakes included) and on one kept-alive
# connection. A measurement, not a test: it prints medians and 90th percentiles.
# Usage: scripts/proxy-ttft.sh PATH/TO/oisp-sensor [REQUESTS]   (default 40 per case)
set -euo pipefail
BIN=$(realpath "${1:?usage: proxy-ttft.sh BINARY [REQUESTS]}")
N=${2:-40}
cd "$(dirname "$0")/.."
tools/mock-provider/setup-venv.sh >/dev/null
PY=tools/mock-provider/.venv/bin/python3
TMP=$(mktemp -d)
cleanup() {
  [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  [ -n "${MOCK_PID:-}" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
python3 tools/mock-provider/mock.py --port 0 --quiet --port-file "$TMP/ports.json" \
  --ca-dir "$TMP/mockca" >/dev/null 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$TMP/ports.json" ] && break; sleep 0.1; done
PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https_port"])' "$TMP/ports.json")
OISP_CONFIG= "$BIN" proxy --listen 127.0.0.1:0 --intercept all --no-store -o "$TMP/events.jsonl" \
  --ca-dir "$TMP/proxyca" --upstream-ca "$TMP/mockca/ca.pem" 2>"$TMP/proxy.log" &
PROXY_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$TMP/proxy.log" 2>/dev/null && break; sleep 0.1; done
PROXY=$(grep -o 'http://[0-9.:]*' "$TMP/proxy.log" | head -1)
cat "$TMP/mockca/ca.pem" "$TMP/proxyca/ca.pem" >"$TMP/trust.pem"
"$PY" - "$PORT" "$PROXY" "$TMP/trust.pem" "$N" <<'PY'
import json, statistics, sys, time
import httpx
port, proxy, trust, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
url = f"https://localhost:{port}/v1/chat/completions"
body = {"model": "gpt-4o-mini", "stream": True,
        "messages": [{"role": "user", "content": "Stream a sentence for the latency check."}]}
headers = {"Authorization": "Bearer sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzTTFT"}

def once(client):
    t0 = time.perf_counter()
    first = None
    with client.stream("POST", url, json=body, headers=headers) as r:
        for line in r.iter_lines():
            if first is None and line.startswith("data: ") and '"content"' in line:
                first = time.perf_counter()
    return (first - t0) * 1000, (time.perf_counter() - t0) * 1000

def case(via, http2, fresh):
    def make():
        return httpx.Client(verify=trust, http2=http2, proxy=proxy if via == "proxy" else None,
                            timeout=30)
    ttft, total = [], []
    keep = make()
    once(keep)  # warm-up (imports, first handshake)
    for _ in range(n):
        c = make() if fresh else keep
        a, b = once(c)
        ttft.append(a); total.append(b)
        if fresh:
            c.close()
    keep.close()
    q = lambda v, p: sorted(v)[min(len(v) - 1, int(len(v) * p))]
    return statistics.median(ttft), q(ttft, 0.9), statistics.median(total), q(total, 0.9)

print(f"{n} streamed chat completions per case (mock: 12 events 8 ms apart); milliseconds")
print(f"{'case':34} {'ttft p50':>9} {'ttft p90':>9} {'total p50':>10} {'total p90':>10}")
for http2 in (False, True):
    for fresh in (True, False):
        rows = {}
        for via in ("direct", "proxy"):
            rows[via] = case(via, http2, fresh)
            label = f"{via} {'h2' if http2 else 'h1'} {'new conn' if fresh else 'keep-alive'}"
            print(f"{label:34} " + " ".join(f"{v:9.1f}" if i < 2 else f"{v:10.1f}"
                                                  for i, v in enumerate(rows[via])))
        d = [p - q for p, q in zip(rows["proxy"], rows["direct"])]
        print(f"{'  proxy - direct':34} {d[0]:+9.1f} {d[1]:+9.1f} {d[2]:+10.1f} {d[3]:+10.1f}")
PY
calls=$(grep -c '"event_type":"ai.response"' "$TMP/events.jsonl" || true)
echo "proxy decoded $calls responses into events"
