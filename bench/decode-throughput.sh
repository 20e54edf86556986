#!/usr/bin/env bash
# Runs the oisp-decode criterion benchmarks (release/bench profile, one core) and prints a table
# of MB/s and exchanges/s per benchmark, parsed from target/criterion/**/new/*.json.
#
#   bench/decode-throughput.sh                 # every benchmark
#   bench/decode-throughput.sh nonstream       # only ids matching a criterion filter
#   bench/decode-throughput.sh --table-only    # print the table of the last run, do not run
#
# CARGO_TARGET_DIR is honoured (criterion writes to $CARGO_TARGET_DIR/criterion).
# MB = 10^6 bytes. Figures use criterion's median time per iteration.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
run=1
args=()
for a in "$@"; do
    if [ "$a" = "--table-only" ]; then run=0; else args+=("$a"); fi
done

if [ "$run" = 1 ]; then
    (cd "$root" && cargo bench -p oisp-decode --bench decode_throughput -- "${args[@]}") >&2
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  kernel: $(uname -r)  $(rustc --version)"
echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo

python3 - "$target/criterion" <<'EOF'
import json, os, sys

base = sys.argv[1]
rows = []
for dirpath, _, files in os.walk(base):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    try:
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
    except (OSError, ValueError):
        continue
    ns = est["median"]["point_estimate"]
    tp = meta.get("throughput") or {}
    nbytes = elems = None
    if "Bytes" in tp:
        nbytes = tp["Bytes"]
    elif "Elements" in tp:
        elems = tp["Elements"]
    elif "ElementsAndBytes" in tp:
        elems = tp["ElementsAndBytes"]["elements"]
        nbytes = tp["ElementsAndBytes"]["bytes"]
    secs = ns / 1e9
    rows.append((
        meta.get("full_id") or meta["title"],
        ns,
        nbytes / secs / 1e6 if nbytes is not None else None,
        elems / secs if elems is not None else None,
    ))

if not rows:
    sys.exit(f"no criterion results under {base}")

order = {"fixture": 0, "nonstream": 1, "stream": 2, "large_prompt": 3}
rows.sort(key=lambda r: (order.get(r[0].split("/")[0], 9), r[0]))
w = max(len(r[0]) for r in rows)

def t(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return f"{ns / div:.2f} {unit}"
    return f"{ns:.0f} ns"

print(f"{'bench':<{w}}  {'time/iter':>10}  {'MB/s':>9}  {'exchanges/s':>12}")
print(f"{'-' * w}  {'-' * 10}  {'-' * 9}  {'-' * 12}")
for name, ns, mbs, eps in rows:
    mb = f"{mbs:9.1f}" if mbs is not None else f"{'-':>9}"
    ex = f"{eps:12,.0f}" if eps is not None else f"{'-':>12}"
    print(f"{name:<{w}}  {t(ns):>10}  {mb}  {ex}")
EOF
