#!/usr/bin/env bash
# Kernel cost of following TLS sockets for their metadata (docs/capture-overhead.md), as root:
#
#   `record --no-ssl` runs (no TLS stack hooked) while, in a network namespace where NAME resolves
#   to loopback through a bind-mounted hosts file, a Python client (OpenSSL) makes one TLS
#   connection to a local TLS server with server name NAME, writes N one-byte records and reads N
#   one-byte records. With NAME an AI provider's (api.openai.com) the socket stays followed after
#   its ClientHello: each read/write that moves bytes is one `struct oisp_flow` record. With any
#   other NAME (example.org) the decoder hands the connection back and `record` stops following
#   it in the kernel (`Kernel::unfollow`). BPF run time per program comes from
#   kernel.bpf_stats_enabled=1 and `bpftool prog show` (before/after the client), the client's
#   own wall time is printed too.
#
# Usage: sudo bench/flow-overhead.sh [N]   (default 100000; builds the release binary unless
# OISP_SENSOR points at one; needs python3, openssl, unshare, ip, bpftool, jq).
set -euo pipefail
trap 'echo "flow-overhead.sh: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR

N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "flow-overhead.sh: needs root (eBPF capture, namespaces)" >&2
    exit 1
fi
for t in python3 openssl unshare ip bpftool jq; do
    command -v "$t" >/dev/null || { echo "flow-overhead.sh: needs $t" >&2; exit 1; }
done
if [ -z "${OISP_SENSOR:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p oisp-sensor)
    OISP_SENSOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/oisp-sensor"
fi
TMP=$(mktemp -d /tmp/oisp-flow-overhead.XXXXXX)
chmod 700 "$TMP"
REC_PID=""
cleanup() {
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

# A certificate for both names.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj /CN=bench \
    -addext "subjectAltName=DNS:api.openai.com,DNS:example.org" 2>/dev/null

cat >"$TMP/server.py" <<'EOF'
import socket, ssl, sys
n, ready = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
ls = socket.create_server(("127.0.0.1", 443))
open(ready, "w").close()
c, _ = ls.accept()
s = ctx.wrap_socket(c, server_side=True)
got = 0
while got < n:
    got += len(s.recv(65536))
for _ in range(n):
    s.sendall(b"y")
s.close()
EOF
cat >"$TMP/client.py" <<'EOF'
import socket, ssl, sys, time
name, n, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((name, 443)), server_hostname=name)
t = time.perf_counter()
for _ in range(n):
    s.sendall(b"x")
got = 0
while got < n:
    got += len(s.recv(1))
s.close()
print(f"client: {n} writes + {n} reads in {time.perf_counter() - t:.2f} s")
EOF

# run_time_ns and run_cnt of the programs `record` loaded (ids not loaded before it started, in
# $TMP/ids.before: other tools' programs of the same names are left out), by name.
stats() {
    bpftool prog show -j | jq -r --slurpfile old "$TMP/ids.before" '.[]
        | select((.id as $i | $old[0] | index($i) | not) and .run_cnt != null)
        | "\(.name) \(.run_time_ns) \(.run_cnt)"' | sort
}

sysctl -qw kernel.bpf_stats_enabled=1
for name in api.openai.com example.org; do
    bpftool prog show -j | jq '[.[].id]' >"$TMP/ids.before"
    OISP_STORE="$TMP/events.db" OISP_STATE_FILE="$TMP/state.json" OISP_CONFIG="" \
        "$OISP_SENSOR" record --no-ssl -o /dev/null 2>"$TMP/record.err" &
    REC_PID=$!
    for _ in $(seq 200); do grep -q capturing "$TMP/record.err" 2>/dev/null && break; sleep 0.05; done
    rm -f "$TMP/ready"
    stats >"$TMP/before"
    unshare --net --mount bash -c '
        set -e
        ip link set lo up
        echo "127.0.0.1 $0" >"$4/hosts"
        mount --bind "$4/hosts" /etc/hosts
        python3 "$4/server.py" "$1" "$4/ready" "$2" "$3" &
        for _ in $(seq 200); do [ -e "$4/ready" ] && break; sleep 0.05; done
        python3 "$4/client.py" "$0" "$1" "$2"
        wait
    ' "$name" "$N" "$TMP/cert.pem" "$TMP/key.pem" "$TMP"
    stats >"$TMP/after"
    kill -TERM "$REC_PID"; wait "$REC_PID" || true; REC_PID=""
    echo "== $name: BPF time per run of the socket programs during the client (ns)"
    join "$TMP/before" "$TMP/after" | awk '
        { runs = $5 - $3; ns = $4 - $2 }
        runs > 0 && ($1 ~ /^(plain_|tls_sys_|sys_write)/) {
            printf "  %-16s %9d runs  %7.0f ns/run  %8.1f ms\n", $1, runs, ns / runs, ns / 1e6
        }'
done
sysctl -qw kernel.bpf_stats_enabled=0
