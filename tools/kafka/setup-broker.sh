#!/usr/bin/env bash
# The Kafka-protocol broker for oisp-kafka's tests: tansu (crates.io, Apache-2.0), built once with
# only its in-memory storage engine and cached in tools/kafka/.bin (gitignored).
#
#   setup-broker.sh install      build it if missing (a few minutes); prints the binary path
#   setup-broker.sh run PORT     run a broker on 127.0.0.1:PORT in the foreground, in-memory
#                                storage (nothing on disk; a restart starts empty)
#   setup-broker.sh start DIR    run one in the background on a free port; writes DIR/port and
#                                DIR/pid, waits until it accepts connections, prints the port
#   setup-broker.sh venv         the independent consumer: tools/kafka/.venv with confluent-kafka
#                                (librdkafka) from requirements.txt; prints its python
#
# Debian's kcat cannot be the consumer: its librdkafka 2.0.2 fails to parse tansu's
# ApiVersions v3 answer ("Read underflow"); the librdkafka in the confluent-kafka wheel can.
#
# OISP_TANSU_BIN overrides the binary (e.g. a tansu already installed elsewhere).
set -euo pipefail

TANSU_VERSION=0.6.0
# Marker name changes with the build flavour so an older cached build is replaced.
FLAVOUR=$TANSU_VERSION-debug-nodebuginfo
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/.bin"
BIN="${OISP_TANSU_BIN:-$ROOT/bin/tansu}"
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

install() {
  if [ -n "${OISP_TANSU_BIN:-}" ]; then
    [ -x "$BIN" ] || { echo "setup-broker.sh: OISP_TANSU_BIN=$BIN is not executable" >&2; exit 1; }
    echo "$BIN"
    return
  fi
  if [ -x "$BIN" ] && [ -f "$ROOT/.version-$FLAVOUR" ]; then
    echo "$BIN"
    return
  fi
  mkdir -p "$ROOT"
  # One build at a time even when several test binaries ask at once.
  exec 9>"$ROOT/.lock"
  flock 9
  if [ -x "$BIN" ] && [ -f "$ROOT/.version-$FLAVOUR" ]; then
    echo "$BIN"
    return
  fi
  command -v cargo >/dev/null || { echo "setup-broker.sh: cargo not found" >&2; exit 1; }
  echo "setup-broker.sh: building tansu $TANSU_VERSION (in-memory storage only) into $ROOT" >&2
  local start=$SECONDS
  # An unoptimised build without debug info: a test broker needs no speed, and this takes 30% of
  # the CPU time of a release build (measured: 5.5 min CPU vs 18.5 min; a 109 MB binary).
  # --force: replace a cached build of another flavour.
  CARGO_PROFILE_DEV_DEBUG=0 cargo install "tansu@$TANSU_VERSION" --locked --debug --force \
    --no-default-features --features dynostore --root "$ROOT" --target-dir "$ROOT/build" >&2
  rm -rf "$ROOT/build"
  touch "$ROOT/.version-$FLAVOUR"
  echo "setup-broker.sh: tansu built in $((SECONDS - start)) s" >&2
  echo "$BIN"
}

run() {
  local port=$1
  install >/dev/null
  # tansu's memory engine keeps everything in the process; a throwaway cluster id per run.
  exec "$BIN" broker \
    --cluster-id "oisp-test-$port" \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "memory://tansu/"
}

venv() {
  local venv="$HERE/.venv" py
  py="$venv/bin/python"
  if [ -x "$py" ] && cmp -s "$HERE/requirements.txt" "$venv/.requirements"; then
    echo "$py"
    return
  fi
  mkdir -p "$HERE"
  exec 8>"$HERE/.venv.lock"
  flock 8
  if ! { [ -x "$py" ] && cmp -s "$HERE/requirements.txt" "$venv/.requirements"; }; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$py" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" >&2
    cp "$HERE/requirements.txt" "$venv/.requirements"
  fi
  echo "$py"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "setup-broker.sh: broker did not listen on 127.0.0.1:$port within 10 s" >&2
  return 1
}

start() {
  local dir=$1 port
  install >/dev/null
  mkdir -p "$dir"
  port=$(free_port)
  "$0" run "$port" >"$dir/broker.log" 2>&1 &
  echo $! >"$dir/pid"
  echo "$port" >"$dir/port"
  wait_port "$port"
  echo "$port"
}

case "${1:-}" in
  install) install ;;
  run) [ -n "${2:-}" ] || { echo "usage: $0 run PORT" >&2; exit 2; }; run "$2" ;;
  venv) venv ;;
  start) [ -n "${2:-}" ] || { echo "usage: $0 start DIR" >&2; exit 2; }; start "$2" ;;
  *) echo "usage: $0 install | run PORT | start DIR | venv" >&2; exit 2 ;;
esac
