#!/usr/bin/env bash
# Capture overhead of `oisp-sensor record`, in one run (as root):
#
#   1. HTTPS requests/s between nginx (libssl, self-signed certificate, 1 KB response bodies) and
#      wrk (libssl) over keep-alive on loopback, without the sensor, with `record` attached
#      (everything in scope), with `record --pid 1` (uprobes placed in pid 1 only: nginx and wrk
#      never trap; the syscall tracepoints still run and filter in the kernel), with
#      `record -p wrk` (every process traps, only wrk's plaintext is copied) and with
#      `record -p oisp-nomatch` (every process traps, every call is filtered out in the BPF
#      program: the floor cost of the probes themselves), then without again.
#      Prints req/s, the throughput loss, the sensor's CPU% (from /proc/PID/stat over the loaded
#      phase), the kernel time of the BPF programs and the records lost. Throughput is measured
#      with the kernel's BPF statistics off (they add two clock reads to every program run); the
#      BPF time comes from a second, shorter load window of the same phase with them on.
#   2. Syscalls: `dd bs=1` copies /dev/zero to /dev/null one byte per read(2)/write(2), without
#      the sensor and with `record` (default, --no-ssl, --no-ssl --no-file): the time each
#      syscall of any process pays for the sensor's tracepoints.
#   3. AI calls: wrk POSTs an OpenAI chat completion request to nginx, which returns a canned
#      OpenAI JSON body, throttled to about 1,000 calls/s and then unthrottled; counts the
#      ai.request/ai.response events the sensor wrote against the calls wrk completed, and the
#      records lost.
#
# Both nginx and wrk use libssl, so every request passes the OpenSSL probes in both processes:
# the honest worst case. (nginx's sessions are muted in the kernel once userspace has seen their
# accepted socket; wrk's plain keep-alive connections are ignored after 4 exchanges.)
#
# Usage: sudo bench/capture-overhead.sh [SECONDS_PER_PHASE]   (default 15; installs nginx and
# wrk with apt-get when missing; builds the release binary unless OISP_SENSOR points at one).
# Environment: CONNS (wrk connections, default 16), AI_CONNS (default 8), AI_DELAY_MS (per
# connection pause between calls in the throttled phase, default 7), SKIP_AI=1 (HTTPS and syscall phases
# only), OISP_NO_UPROBE_SESSION=1 (record uses uprobe/uretprobe pairs even on 6.13+ kernels).
set -euo pipefail
trap 'echo "capture-overhead.sh: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR

DUR=${1:-15}
DD_COUNT=${DD_COUNT:-3000000}
CONNS=${CONNS:-16}
AI_CONNS=${AI_CONNS:-8}
AI_DELAY_MS=${AI_DELAY_MS:-7}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "capture-overhead.sh: needs root (eBPF capture; apt-get)" >&2
    exit 1
fi
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    apt-get install -y -q nginx wrk >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q nginx wrk >/dev/null
    }
fi
NGINX=$(command -v nginx)

if [ -z "${OISP_SENSOR:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p oisp-sensor)
    OISP_SENSOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/oisp-sensor"
fi

TMP=$(mktemp -d /tmp/oisp-overhead.XXXXXX)
# record keeps its default store on (as users run it), in the temp dir rather than /var/lib
export OISP_STORE="$TMP/store/events.db"
NGINX_PID=""
REC_PID=""
cleanup() {
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null || true
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null || true
    sysctl -q -w kernel.bpf_stats_enabled="${BPF_STATS_WAS:-0}" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- TLS server ---------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BODY_1K=$(head -c 1024 /dev/zero | tr '\0' 'a')
AI_RESPONSE='{"id":"chatcmpl-bench0001","object":"chat.completion","created":1767225600,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"This is a canned benchmark reply.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19},"system_fingerprint":"fp_bench"}'
cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:$PORT ssl;
        server_name localhost;
        ssl_certificate $TMP/cert.pem;
        ssl_certificate_key $TMP/key.pem;
        location = /1k { default_type text/plain; return 200 '$BODY_1K'; }
        location = /v1/chat/completions { default_type application/json; return 200 '$AI_RESPONSE'; }
    }
}
EOF
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf"
for _ in $(seq 50); do [ -s "$TMP/nginx.pid" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$TMP/nginx.pid")
URL="https://localhost:$PORT"

cat >"$TMP/ai.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-proj-BENCHKEY0123456789abcdefghijklmnop"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Benchmark call: say something short."}]}'
local pause = tonumber(os.getenv("AI_DELAY_MS") or "0")
if pause > 0 then
    function delay() return pause end
end
EOF

# --- helpers ------------------------------------------------------------------------------
TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# wrk's "Requests/sec" and total requests
wrk_run() { # ARGS...  → prints "REQS_PER_S TOTAL_REQUESTS"
    local out
    out=$(wrk "$@")
    echo "$out" >"$TMP/wrk.last"
    local rps total
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "$rps $total"
}
start_record() { # ARGS... → sets REC_PID; waits until every probe is attached
    IDS_BEFORE=$(prog_ids)
    "$OISP_SENSOR" record -o "$TMP/events.jsonl" "$@" 2>"$TMP/record.err" &
    REC_PID=$!
    for _ in $(seq 300); do
        grep -aq capturing "$TMP/record.err" 2>/dev/null && return 0
        kill -0 "$REC_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "record did not start:" >&2
    cat "$TMP/record.err" >&2
    exit 1
}
stop_record() { # → prints record's stop line
    kill -TERM "$REC_PID"
    wait "$REC_PID" || true
    # (wait can return early on a signal: make sure record has written its stop line)
    for _ in $(seq 100); do
        if ! kill -0 "$REC_PID" 2>/dev/null && grep -aq 'stopped:' "$TMP/record.err"; then break; fi
        sleep 0.1
    done
    REC_PID=""
    if ! grep -a 'stopped:' "$TMP/record.err" | tail -1; then
        echo "record did not print its stop line:" >&2
        cat "$TMP/record.err" >&2
        echo "lost ? TLS + ? system records"
    fi
}
# bpftool's JSON dump fails now and then when another program is unloaded meanwhile: retry.
progs_json() {
    local j
    for _ in 1 2 3 4 5; do
        j=$(bpftool prog show -j 2>/dev/null) && python3 -c 'import json,sys; json.loads(sys.argv[1])' "$j" 2>/dev/null && { echo "$j"; return 0; }
        sleep 0.2
    done
    echo "[]"
}
prog_ids() { progs_json | python3 -c 'import json,sys; print(" ".join(str(p["id"]) for p in json.load(sys.stdin)))'; }
bpf_ns() { # total run time (ns) and runs of the BPF programs the running record loaded
    progs_json | python3 -c '
import json, sys
before = set(sys.argv[1].split())
ns = cnt = 0
for p in json.load(sys.stdin):
    if str(p["id"]) not in before:
        ns += p.get("run_time_ns", 0); cnt += p.get("run_cnt", 0)
print(ns, cnt)' "$IDS_BEFORE" || echo "0 0"
}
lost_of() { # stop line → "TLS SYS"
    sed -E 's/.*lost ([0-9?]+) TLS \+ ([0-9?]+) system records.*/\1 \2/' <<<"$1"
}

BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
bpf_stats() { sysctl -q -w kernel.bpf_stats_enabled="$1" >/dev/null 2>&1 || true; }
bpf_stats 0
STATS_DUR=$((DUR < 5 ? DUR : 5))

# warm up (TLS session setup, page cache)
wrk -t1 -c"$CONNS" -d2s "$URL/1k" >/dev/null

# measured phase with the sensor: prints "rps cpu% bpf_ms_per_s lost_tls lost_sys events"
sensor_phase() { # RECORD_ARGS...
    rm -f "$TMP/events.jsonl"
    start_record "$@"
    sleep 1
    local t0 c0 b0 r0 t1 c1 b1 r1 s0 s1 res line
    c0=$(cpu_ticks "$REC_PID")
    t0=$(date +%s.%N)
    res=$(wrk_run -t1 -c"$CONNS" -d"${DUR}s" "$URL/1k")
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$REC_PID")
    # BPF time per second of load, with the statistics on (not part of the throughput figure)
    bpf_stats 1
    read -r b0 r0 < <(bpf_ns)
    s0=$(date +%s.%N)
    wrk -t1 -c"$CONNS" -d"${STATS_DUR}s" "$URL/1k" >/dev/null
    s1=$(date +%s.%N)
    read -r b1 r1 < <(bpf_ns)
    bpf_stats 0
    line=$(stop_record)
    sed -E 's/.*truncated; //' <<<"$line" >"$TMP/skip.last"
    local events
    events=$(wc -l <"$TMP/events.jsonl" 2>/dev/null || echo 0)
    python3 - "$res" "$t0" "$t1" "$c0" "$c1" "$TICKS" "$b0" "$b1" "$r0" "$r1" "$events" "$(lost_of "$line")" "$s0" "$s1" <<'EOF'
import sys
rps = float(sys.argv[1].split()[0]); t0, t1 = float(sys.argv[2]), float(sys.argv[3])
cpu = (int(sys.argv[5]) - int(sys.argv[4])) / int(sys.argv[6]) / (t1 - t0) * 100
s0, s1 = float(sys.argv[13]), float(sys.argv[14])
bpf_ms = (int(sys.argv[8]) - int(sys.argv[7])) / 1e6 / (s1 - s0)
runs = (int(sys.argv[10]) - int(sys.argv[9])) / (s1 - s0)
lost = sys.argv[12].split()
print(f"{rps:.0f} {cpu:.1f} {bpf_ms:.1f} {runs:.0f} {lost[0]} {lost[1]} {sys.argv[11]}")
EOF
}

echo "machine: $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nginx -v 2>&1 | cut -d/ -f2) nginx, wrk -t1 -c$CONNS, ${DUR}s per phase"
echo
echo "== HTTPS 1 KB bodies over keep-alive (nginx ↔ wrk, both libssl) =="
R=$(wrk_run -t1 -c"$CONNS" -d"${DUR}s" "$URL/1k")
read -r BASE1 _ <<<"$R"
printf '%-34s %8.0f req/s\n' "without sensor" "$BASE1"
R=$(sensor_phase)
read -r ALL_RPS ALL_CPU ALL_BPF ALL_RUNS ALL_LT ALL_LS ALL_EV <<<"$R"
ALL_SKIP=$(cat "$TMP/skip.last" 2>/dev/null || echo "?")
R=$(sensor_phase --pid 1)
read -r PID1_RPS PID1_CPU PID1_BPF PID1_RUNS PID1_LT PID1_LS _ <<<"$R"
R=$(sensor_phase -p wrk)
read -r WRK_RPS WRK_CPU WRK_BPF WRK_RUNS WRK_LT WRK_LS _ <<<"$R"
R=$(sensor_phase -p oisp-nomatch)
read -r NOM_RPS NOM_CPU NOM_BPF NOM_RUNS NOM_LT NOM_LS _ <<<"$R"
R=$(wrk_run -t1 -c"$CONNS" -d"${DUR}s" "$URL/1k")
read -r BASE2 _ <<<"$R"
printf '%-34s %8.0f req/s\n' "without sensor (again)" "$BASE2"
BASE=$(python3 -c "print(($BASE1 + $BASE2) / 2)")
row() { # label rps cpu bpf runs lost_tls lost_sys
    python3 - "$@" "$BASE" <<'EOF'
import sys
label, rps, cpu, bpf, runs = sys.argv[1], *map(float, sys.argv[2:6])
lt, ls, base = sys.argv[6], sys.argv[7], float(sys.argv[8])
print(f"{label:<34} {rps:8.0f} req/s  loss {100 * (1 - rps / base):5.1f}%  sensor CPU {cpu:5.1f}%  "
      f"BPF {bpf:6.1f} ms/s ({runs:.0f} runs/s)  lost {lt} TLS + {ls} system records")
EOF
}
row "record (all processes)" "$ALL_RPS" "$ALL_CPU" "$ALL_BPF" "$ALL_RUNS" "$ALL_LT" "$ALL_LS"
row "record --pid 1 (all filtered out)" "$PID1_RPS" "$PID1_CPU" "$PID1_BPF" "$PID1_RUNS" "$PID1_LT" "$PID1_LS"
row "record -p wrk (client side only)" "$WRK_RPS" "$WRK_CPU" "$WRK_BPF" "$WRK_RUNS" "$WRK_LT" "$WRK_LS"
row "record -p oisp-nomatch (probe floor)" "$NOM_RPS" "$NOM_CPU" "$NOM_BPF" "$NOM_RUNS" "$NOM_LT" "$NOM_LS"
echo "(record, all processes: $ALL_SKIP)"
echo "(loss relative to the mean of the two runs without the sensor: $(printf '%.0f' "$BASE") req/s; record wrote $ALL_EV events in the all-processes phase)"

echo
echo "== syscalls: dd bs=1 count=$DD_COUNT (as many read(2) + write(2) calls, /dev/zero → /dev/null) =="
# The sensor's syscall tracepoints run on every process, AI or not: this is their cost per call.
dd_secs() { # → wall seconds of the dd run
    local t0 t1
    t0=$(date +%s.%N)
    dd if=/dev/zero of=/dev/null bs=1 count="$DD_COUNT" status=none
    t1=$(date +%s.%N)
    python3 -c "print($t1 - $t0)"
}
DD0=$(dd_secs)
dd_row() { # LABEL SECONDS
    python3 - "$1" "$2" "$DD0" "$DD_COUNT" <<'EOF'
import sys
label, secs, base, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
extra = (secs - base) / (2 * n) * 1e9
print(f"{label:<34} {secs:6.2f} s  " + (f"+{extra:4.0f} ns per syscall" if label != "without sensor" else ""))
EOF
}
dd_row "without sensor" "$DD0"
for args in "" "--no-ssl" "--no-ssl --no-file"; do
    rm -f "$TMP/events.jsonl"
    # shellcheck disable=SC2086
    start_record $args
    sleep 1
    DD1=$(dd_secs)
    stop_record >/dev/null
    dd_row "record ${args:-(default)}" "$DD1"
done

echo
echo "== AI calls: POST /v1/chat/completions, canned OpenAI JSON =="
ai_phase() { # LABEL DELAY_MS
    local label=$1 delay=$2
    rm -f "$TMP/events.jsonl"
    start_record
    sleep 1
    local c0 t0 c1 t1 res line
    c0=$(cpu_ticks "$REC_PID")
    t0=$(date +%s.%N)
    res=$(AI_DELAY_MS=$delay wrk_run -t1 -c"$AI_CONNS" -d"${DUR}s" -s "$TMP/ai.lua" "$URL/v1/chat/completions")
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$REC_PID")
    sleep 1
    line=$(stop_record)
    local reqs resps calls dropped
    reqs=$(grep -ac '"event_type":"ai.request"' "$TMP/events.jsonl" || true)
    resps=$(grep -ac '"event_type":"ai.response"' "$TMP/events.jsonl" || true)
    # what the decoder made of it, and what the JSONL sink had to drop when it fell behind
    calls=$(sed -nE 's/.*\(([0-9]+) AI calls\).*/\1/p' <<<"$line")
    dropped=$(sed -nE 's/.*jsonl → .*: [0-9]+ delivered, ([0-9]+) dropped.*/\1/p' "$TMP/record.err")
    python3 - "$label" "$res" "$reqs" "$resps" "$(lost_of "$line")" "$t0" "$t1" "$c0" "$c1" "$TICKS" "${calls:-?}" "${dropped:-0}" <<'EOF'
import sys
label, res, reqs, resps, lost = sys.argv[1], sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split()
decoded, dropped = sys.argv[11], sys.argv[12]
t0, t1 = float(sys.argv[6]), float(sys.argv[7])
cpu = (int(sys.argv[9]) - int(sys.argv[8])) / int(sys.argv[10]) / (t1 - t0) * 100
rps, total = float(res[0]), int(res[1])
print(f"{label:<22} {rps:7.0f} calls/s  wrk completed {total}  ai.request {reqs}  ai.response {resps}  "
      f"missing {max(0, total - resps)}  sensor CPU {cpu:5.1f}%  lost {lost[0]} TLS + {lost[1]} system records  "
      f"(decoded {decoded} AI calls; JSONL sink dropped {dropped} events)")
EOF
}
if [ "${SKIP_AI:-0}" = 1 ]; then
    echo "(skipped: SKIP_AI=1)"
    exit 0
fi
ai_phase "throttled (~1,000/s)" "$AI_DELAY_MS"
ai_phase "unthrottled (max)" 0
echo "(wrk counts completed calls; up to $AI_CONNS calls in flight when it stops may add requests without a counted completion)"
