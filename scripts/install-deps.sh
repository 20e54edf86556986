#!/usr/bin/env bash
# Installs everything oisp-sensor needs to build and test on Debian/Ubuntu, as root.
# Idempotent: safe to run again. Installs Rust with rustup only if cargo is missing.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (sudo $0)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
pkgs=(build-essential pkg-config ca-certificates curl git tmux)
# openssl: test certificates (oisp-otlp TLS test, mock provider). flock (util-linux): venv setups.
pkgs+=(openssl util-linux)
# wget: the GnuTLS client of the root end-to-end tests (record_e2e.rs, wget_gnutls_chat).
pkgs+=(wget)
# golang-go: builds tools/go-client (standard library only), the Go crypto/tls client of
# crates/oisp-sensor/tests/go_e2e.rs and of the Go locator's tests in crates/oisp-ebpf.
pkgs+=(golang-go)
# libnss3-tools: tstclnt, the NSS client of the root end-to-end test nss_e2e.rs (tstclnt_nss_chat).
pkgs+=(libnss3-tools)
# podman + runc (its OCI runtime in the test: crun refuses hybrid cgroup hosts) and mmdebstrap:
# the container test container_e2e.rs runs curl in a podman container whose root filesystem
# mmdebstrap builds from the Debian mirror (scripts/container-rootfs.sh).
pkgs+=(podman runc mmdebstrap)
# iproute2: `ip`, brings up loopback in the network namespace of metadata_e2e.rs (unshare is
# util-linux's).
pkgs+=(iproute2)
# eBPF capture (crates/oisp-ebpf): clang compiles the BPF programs, bpftool generates vmlinux.h
# from the kernel's BTF, libelf/zlib are linked by the vendored libbpf.
pkgs+=(clang llvm libelf-dev zlib1g-dev make bpftool)
# Kafka sink tests (crates/oisp-kafka): protoc + the well-known protos decode the protobuf.
pkgs+=(protobuf-compiler libprotobuf-dev)
# chromium: the web UI's browser test (crates/oisp-sensor/tests/web_ui.rs) drives Debian's chromium
# headless through playwright-core (tools/web-test). tmux (above) runs the TUI test.
pkgs+=(chromium)
# systemd (systemd-analyze) and shellcheck: scripts/deploy-check.sh verifies the systemd unit and
# lints scripts/install.sh.
pkgs+=(systemd shellcheck)
# The portable check (scripts/portable-check.sh) unpacks Debian 12's rustc-web to type-check the
# macOS/Windows builds; the LLVM library it links is installed here (the Rust packages themselves
# conflict with rustup, so they are never installed).
if apt-cache show libstd-rust-web-dev >/dev/null 2>&1; then
  rstd=$(apt-cache depends libstd-rust-web-dev | awk '/Depends: libstd-rust-web-[0-9]/ {print $2; exit}')
  while read -r lib; do pkgs+=("$lib"); done < <(apt-cache depends "$rstd" | awk '/Depends: libllvm/ {print $2}')
fi
# Keep an existing Node (e.g. NodeSource's, which bundles npm) and Python; install Debian's otherwise.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
python3 -m venv --help >/dev/null 2>&1 || pkgs+=(python3-venv)
apt-get install -y -q --no-install-recommends "${pkgs[@]}" >/dev/null

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    :
  else
    echo "install-deps.sh: cargo not found; installing Rust via Debian's rustup" >&2
    apt-get install -y -q rustup >/dev/null || apt-get install -y -q cargo rustc >/dev/null
    command -v rustup >/dev/null && rustup default stable
  fi
fi
echo "install-deps.sh: system packages ready"
