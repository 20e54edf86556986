#!/usr/bin/env bash
# The portable build: type-checks every crate's libraries, binaries and examples for macOS
# (x86_64 and aarch64) and Windows (x86_64, MSVC) — no Linux-only code outside the cfg-gated
# eBPF crate. `cargo check` only: nothing is linked or run for those targets.
#
# How, on a Linux machine with no macOS/Windows standard library: Debian's rustc-web with its
# standard library's sources builds std for each target (-Zbuild-std, RUSTC_BOOTSTRAP=1) under
# the workspace's cargo. Those packages conflict with rustup, so they are unpacked into the
# target directory, not installed (scripts/install-deps.sh installs the LLVM library they use).
# The C parts of -sys crates (ring, SQLite, zstd) are compiled by tools/portable-check/null-cc,
# which writes empty objects: a check never links them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
OUT="$TARGET/portable"
TC="$OUT/toolchain"
targets=(x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)

if ! apt-cache show rustc-web >/dev/null 2>&1; then
  echo "portable-check: NOT RUN — this system's package lists have no rustc-web (Debian 12's" \
    "newer Rust with its standard library sources), which the check uses to build std for" \
    "macOS and Windows" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi

# 1. The compiler: rustc-web, its std for the host (build scripts, proc macros), std's sources.
want=$(apt-cache policy rustc-web | awk '/Candidate:/ {print $2}')
if [ "$(cat "$TC/version" 2>/dev/null)" != "$want" ]; then
  rm -rf "$TC" && mkdir -p "$TC/debs"
  hoststd=$(apt-cache depends libstd-rust-web-dev | awk '/Depends: libstd-rust-web-[0-9]/ {print $2; exit}')
  (cd "$TC/debs" && apt-get download -q -o=APT::Sandbox::User=root rustc-web libstd-rust-web-dev "$hoststd" rust-web-src >/dev/null)
  for d in "$TC"/debs/*.deb; do dpkg-deb -x "$d" "$TC"; done
  rm -rf "$TC/debs"
  echo "$want" > "$TC/version"
fi
export LD_LIBRARY_PATH="$TC/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RUSTC="$TC/usr/bin/rustc" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$OUT"
"$RUSTC" --version

# 2. Compile-nothing C tools for each target.
NULL="$(pwd)/tools/portable-check"
for t in "${targets[@]}"; do
  u=${t//-/_}
  export "CC_$u=$NULL/null-cc" "AR_$u=$NULL/null-ar"
done

# 3. Check, and fail on any warning in our crates.
args=()
for t in "${targets[@]}"; do args+=(--target "$t"); done
log="$OUT/check.log"
set +e
cargo check -Zbuild-std=std,panic_abort --workspace --lib --bins --examples --locked \
  "${args[@]}" 2>&1 | tee "$log" | grep -E '^(error|warning)|-->' 
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "portable-check: FAILED (cargo check exit $status; $log)" >&2
  exit 1
fi
if grep -qE '^warning: .oisp-[a-z-]+. .*generated [0-9]+ warning' "$log"; then
  echo "portable-check: FAILED — warnings in our crates (see above; $log)" >&2
  exit 1
fi
echo "portable-check: every crate checks clean for ${targets[*]}"
