#!/usr/bin/env bash
# Builds oisp-sensor (release) and runs the main job: live capture (`record`) when this kernel
# and these privileges support eBPF, otherwise the `demo` over the bundled captures followed by
# `show`. Extra arguments go to `record` (e.g. -o events.jsonl, -p python3).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -p oisp-sensor
BIN=target/release/oisp-sensor
[ -n "${CARGO_TARGET_DIR:-}" ] && BIN="$CARGO_TARGET_DIR/release/oisp-sensor"
if "$BIN" status >/dev/null 2>&1; then
  echo "run.sh: eBPF capture is available; starting record (Ctrl-C to stop, then: $BIN show)" >&2
  exec "$BIN" record "$@"
fi
echo "run.sh: this kernel or user cannot run eBPF capture (see: $BIN status); running the demo" >&2
"$BIN" demo
exec "$BIN" show
