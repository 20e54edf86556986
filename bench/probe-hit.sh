#!/usr/bin/env bash
# Cost of one OpenSSL uprobe hit, without any BPF work (as root):
#
#   compiles a tiny C program that calls libssl's SSL_write(ssl, buf, 1) on an unconnected SSL
#   object (it fails at once: ~0.3 µs per call) and SSL_free(NULL) (returns at once), N times
#   each, and times them without the sensor, with `record -p oisp-nomatch` (the probes fire in
#   every process and the BPF programs return at their first check) using session uprobes, and
#   the same with uprobe/uretprobe pairs (OISP_NO_UPROBE_SESSION=1), each with the data probes
#   inside libssl (the default, see crates/oisp-ebpf/src/inner.rs) and on the exported entries
#   (OISP_NO_INNER_PROBES=1). The difference is the price
#   of the trap itself (int3, and the single-step of the displaced first instruction, which the
#   kernel cannot emulate for `sub $imm,%rsp` / `test %rdi,%rdi`), paid by the probed process.
#   Then, without the sensor, a plain tracefs uprobe on SSL_write_ex at its first instruction and
#   at the `call` that follows it (emulated by the kernel: no single-step), and at that call's
#   target (ssl_write_internal, starting with an emulated `push`) shows what the
#   single-step costs (both include writing the trace event).
#
# Usage: sudo bench/probe-hit.sh [CALLS]   (default 300000; needs gcc and libssl.so.3; builds
# the release binary unless OISP_SENSOR points at one).
set -euo pipefail
trap 'echo "probe-hit.sh: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR

N=${1:-300000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "probe-hit.sh: needs root (eBPF capture)" >&2
    exit 1
fi
command -v gcc >/dev/null || { echo "probe-hit.sh: needs gcc (apt-get install gcc)" >&2; exit 1; }
if [ -z "${OISP_SENSOR:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p oisp-sensor)
    OISP_SENSOR="${CARGO_TARGET_DIR:-$ROOT/target}/release/oisp-sensor"
fi
TMP=$(mktemp -d /tmp/oisp-probe-hit.XXXXXX)
REC_PID=""
cleanup() {
    [ -n "$REC_PID" ] && kill -TERM "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null || true
    for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
        if [ -d "$t/events/oisp_probe_hit" ]; then
            echo 0 >"$t/events/oisp_probe_hit/hit/enable" 2>/dev/null || true
            echo "-:oisp_probe_hit/hit" >>"$t/uprobe_events" 2>/dev/null || true
        fi
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

cat >"$TMP/hit.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
const SSL_METHOD *TLS_client_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *m);
SSL *SSL_new(SSL_CTX *c);
int SSL_write(SSL *s, const void *b, int n);
int SSL_write_ex(SSL *s, const void *b, size_t n, size_t *w);
void SSL_free(SSL *s);
void ERR_clear_error(void);

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	SSL *s = SSL_new(SSL_CTX_new(TLS_client_method()));
	char b[1] = { 0 };
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		SSL_write(s, b, 1);
		ERR_clear_error();
	}
	double t1 = now_ns();
	for (long i = 0; i < n; i++)
		SSL_free(NULL);
	double t2 = now_ns();
	size_t w;
	for (long i = 0; i < n; i++) {
		SSL_write_ex(s, b, 1, &w);
		ERR_clear_error();
	}
	double t3 = now_ns();
	printf("SSL_write %6.2f µs/call  SSL_free(NULL) %6.2f µs/call  SSL_write_ex %6.2f µs/call\n",
	       (t1 - t0) / n / 1e3, (t2 - t1) / n / 1e3, (t3 - t2) / n / 1e3);
	return 0;
}
CEOF
gcc -O2 -o "$TMP/hit" "$TMP/hit.c" -l:libssl.so.3 -l:libcrypto.so.3

phase() { # LABEL [ENV=VALUE ...]
    local label=$1
    shift
    env "$@" "$OISP_SENSOR" record -p oisp-nomatch -o "$TMP/events.jsonl" 2>"$TMP/record.err" &
    REC_PID=$!
    for _ in $(seq 300); do
        grep -aq capturing "$TMP/record.err" 2>/dev/null && break
        kill -0 "$REC_PID" 2>/dev/null || { cat "$TMP/record.err" >&2; exit 1; }
        sleep 0.1
    done
    printf '%-34s %s\n' "$label" "$("$TMP/hit" "$N")"
    kill -TERM "$REC_PID"
    wait "$REC_PID" || true
    REC_PID=""
}

echo "$(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $N calls each"
printf '%-34s %s\n' "without sensor" "$("$TMP/hit" "$N")"
phase "record, session uprobes"
phase "record, pairs" OISP_NO_UPROBE_SESSION=1
phase "record, session, exported entries" OISP_NO_INNER_PROBES=1
phase "record, pairs, exported entries" OISP_NO_UPROBE_SESSION=1 OISP_NO_INNER_PROBES=1
printf '%-34s %s\n' "without sensor (again)" "$("$TMP/hit" "$N")"

# The same trap without BPF: a tracefs uprobe on SSL_write_ex, at its first instruction
# (`sub $imm,%rsp`, single-stepped) and at the `call` right after it (which the kernel emulates).
LIBSSL=$(ldd "$TMP/hit" | awk '/libssl.so.3/ {print $3}')
ADDR=$(readelf -Ws --dyn-syms "$LIBSSL" | awk '$8 ~ /^SSL_write_ex@@/ && !seen {print $2; seen = 1}')
CODE=$(objdump -d "$LIBSSL" --start-address=0x"$ADDR" --stop-address=$(printf '0x%x' $((0x$ADDR + 16))) |
    grep -E '^ +[0-9a-f]+:' | sed -n 1,2p | cut -f1,3)
CALL=$(awk -F'\t' 'NR == 2 && $2 ~ /^call/ {sub(":", "", $1); gsub(" ", "", $1); print $1}' <<<"$CODE")
INNER=$(awk -F'\t' 'NR == 2 && $2 ~ /^call/ {split($2, w, " +"); print w[2]}' <<<"$CODE")
TRACEFS=/sys/kernel/tracing
[ -d "$TRACEFS/events" ] || TRACEFS=/sys/kernel/debug/tracing
if [ -z "$CALL" ]; then
    echo "(tracefs comparison skipped: $LIBSSL's SSL_write_ex does not start with one instruction and a call: $CODE)"
    exit 0
fi
trace_phase() { # LABEL OFFSET
    echo "p:oisp_probe_hit/hit $LIBSSL:0x$2" >>"$TRACEFS/uprobe_events"
    echo 1 >"$TRACEFS/events/oisp_probe_hit/hit/enable"
    printf '%-34s %s\n' "$1" "$("$TMP/hit" "$N")"
    echo 0 >"$TRACEFS/events/oisp_probe_hit/hit/enable"
    echo "-:oisp_probe_hit/hit" >>"$TRACEFS/uprobe_events"
}
echo "tracefs uprobe on SSL_write_ex only (no sensor, no BPF):"
trace_phase "  at its first instruction" "$ADDR"
trace_phase "  at the call (0x$CALL, emulated)" "$CALL"
trace_phase "  at its target (0x$INNER, push)" "$INNER"
