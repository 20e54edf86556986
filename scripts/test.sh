#!/usr/bin/env bash
# Builds oisp-sensor and runs every test: formatting, lints, unit/integration tests (incl. schema
# validation of every emitted event, golden fixtures, fuzz-corpus replay), the mock provider's own
# tests, and an end-to-end run of the CLI. Assumes scripts/install-deps.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
[ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/debug/oisp-sensor"
mkdir -p "$TARGET"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The build without eBPF (what macOS/Windows builds are): every command but `record`.
cargo clippy -p oisp-sensor --no-default-features --all-targets --locked -- -D warnings

step "portable build: cargo check of every crate for macOS (x86_64, aarch64) and Windows (x86_64)"
bash scripts/portable-check.sh

# Build every test once; the CLI checks use the binary this builds (target/debug/oisp-sensor).
# A separate release build (thin LTO) would cost CI a third full compile for no test it needs.
step "cargo build (tests and the binary for the CLI checks)"
cargo test --workspace --locked --no-run
# rustls_e2e runs this test client (reqwest + rustls on AWS-LC), as built and stripped.
cargo build --locked -p oisp-rustls-client

step "mock provider: raw-format round-trip tests (Python)"
python3 -m unittest -q tools/mock-provider/test_oraw.py

step "CLI end to end: demo → show → analyze"
bash scripts/cli-smoke.sh "$BIN"

step "deployment: install.sh into a DESTDIR, systemd unit (systemd-analyze), Containerfile (hadolint), Kubernetes manifests (kubernetes-validate)"
bash scripts/deploy-check.sh "$BIN"

step "real clients (PyPI openai/anthropic, npm openai, curl h1/h2) → mock → decode"
bash scripts/live-record-check.sh "$BIN"

step "Kafka sink test broker: tansu built once into tools/kafka/.bin (a few minutes), consumer venv"
bash tools/kafka/setup-broker.sh install >/dev/null
bash tools/kafka/setup-broker.sh venv >/dev/null

step "web UI browser test driver: playwright-core (tools/web-test; drives Debian's chromium)"
npm ci --silent --no-audit --no-fund --prefix tools/web-test >/dev/null

step "real agents at pinned versions (Claude Code: current pin and 2.1.237) into tools/agents/.bin"
eval "$(bash tools/agents/fetch.sh env)"

step "cargo test (workspace)"
cargo test --workspace --locked 2>&1 | tee "$TARGET/cargo-test.log"
# One closing line for CI: the sum of every test binary's results.
awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {printf "\n%d passed, %d failed, %d skipped\n", p, f, i}' "$TARGET/cargo-test.log"
