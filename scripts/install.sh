#!/usr/bin/env bash
# Installs oisp-sensor as a system service, as root: the binary, the configuration
# (/etc/oisp-sensor/config.toml, never overwritten) and the hardened systemd unit. Idempotent.
# What each file is and the unit's capabilities: docs/deploy.md.
#
#   scripts/install.sh [--binary PATH] [--prefix DIR] [--no-build]
#   scripts/install.sh --uninstall [--purge] [--prefix DIR]
#
#   --binary PATH  install this oisp-sensor binary (default: build the release binary with
#                  `cargo build --release --locked -p oisp-sensor`, in $CARGO_TARGET_DIR or target/)
#   --no-build     use the existing release binary; fail if there is none
#   --prefix DIR   binary in DIR/bin (default /usr/local; also $PREFIX). The unit's ExecStart
#                  follows it.
#   --uninstall    stop and disable the service, remove the binary and the unit; the
#                  configuration and the store stay unless --purge is given
#   --purge        with --uninstall: also remove /etc/oisp-sensor, /var/lib/oisp-sensor and
#                  /var/log/oisp-sensor
#
# DESTDIR=DIR installs below DIR (packaging, tests) and skips systemctl and the root check.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
binary=""
build=1
uninstall=0
purge=0

usage() { sed -n '5,17p' "$0" | sed 's/^# \{0,1\}//' >&2; }
die() {
  echo "install.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --no-build) build=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage; echo "install.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ $purge -eq 1 ] && [ $uninstall -eq 0 ] && die "--purge goes with --uninstall"
case $prefix in /*) ;; *) die "--prefix must be an absolute path: $prefix" ;; esac
prefix=${prefix%/}

bindir="$prefix/bin"
bin="$bindir/oisp-sensor"
confdir=/etc/oisp-sensor
conf="$confdir/config.toml"
unitdir=/etc/systemd/system
unit="$unitdir/oisp-sensor.service"
# systemd runs the service; without DESTDIR the real system is changed and needs root.
live=1
[ -n "$destdir" ] && live=0
if [ $live -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0), or set DESTDIR to install below a directory"
fi
have_systemctl() { [ $live -eq 1 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }

if [ $uninstall -eq 1 ]; then
  if have_systemctl; then
    systemctl disable --now oisp-sensor.service 2>/dev/null || true
  fi
  rm -f "$destdir$unit" "$destdir$bin"
  have_systemctl && systemctl daemon-reload
  echo "install.sh: removed $bin and $unit"
  if [ $purge -eq 1 ]; then
    rm -rf "$destdir$confdir" "$destdir/var/lib/oisp-sensor" "$destdir/var/log/oisp-sensor"
    echo "install.sh: removed $confdir, /var/lib/oisp-sensor (the store) and /var/log/oisp-sensor"
  else
    echo "install.sh: kept $confdir and /var/lib/oisp-sensor (the store); --purge removes them"
  fi
  exit 0
fi

# The binary: given, or the release build.
if [ -z "$binary" ]; then
  target=${CARGO_TARGET_DIR:-$here/target}
  binary="$target/release/oisp-sensor"
  if [ $build -eq 1 ]; then
    [ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH"
    command -v cargo >/dev/null || die "cargo not found: run scripts/install-deps.sh, or give --binary PATH"
    echo "install.sh: building the release binary (cargo build --release --locked -p oisp-sensor)"
    (cd "$here" && cargo build --release --locked -p oisp-sensor)
  fi
fi
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
  die "no executable binary at $binary (build it, or give --binary PATH)"
fi
"$binary" --version >/dev/null || die "$binary does not run"

install -d -m 0755 "$destdir$bindir" "$destdir$unitdir"
# Replace atomically: a running service keeps its old file until restarted.
install -m 0755 "$binary" "$destdir$bin.new"
mv -f "$destdir$bin.new" "$destdir$bin"
echo "install.sh: installed $bin ($("$destdir$bin" --version))"

# Configuration: readable by root only (it may hold sink credentials), never overwritten.
install -d -m 0750 "$destdir$confdir"
if [ -e "$destdir$conf" ]; then
  if cmp -s "$here/deploy/config.toml" "$destdir$conf"; then
    echo "install.sh: $conf is already the default configuration"
  else
    install -m 0600 "$here/deploy/config.toml" "$destdir$conf.new"
    echo "install.sh: kept your $conf; the new default is $conf.new (compare: diff $conf $conf.new)"
  fi
else
  install -m 0600 "$here/deploy/config.toml" "$destdir$conf"
  echo "install.sh: installed $conf (all defaults; edit it, then: oisp-sensor config check)"
fi
if [ $live -eq 1 ]; then
  "$bin" config check "$conf" >/dev/null || die "$conf does not pass \`oisp-sensor config check $conf\`: fix it before starting the service"
fi

# The unit, with ExecStart at the installed binary.
sed "s|^ExecStart=/usr/local/bin/oisp-sensor |ExecStart=$bin |" "$here/deploy/systemd/oisp-sensor.service" >"$destdir$unit.new"
chmod 0644 "$destdir$unit.new"
mv -f "$destdir$unit.new" "$destdir$unit"
echo "install.sh: installed $unit"

if have_systemctl; then
  systemctl daemon-reload
  if systemctl is-active --quiet oisp-sensor.service; then
    echo "install.sh: the service is running; apply the new binary and unit with: systemctl restart oisp-sensor"
  else
    echo "install.sh: start now and at every boot with: systemctl enable --now oisp-sensor"
  fi
  echo "install.sh: then check: systemctl status oisp-sensor; oisp-sensor status; journalctl -u oisp-sensor"
elif [ $live -eq 1 ]; then
  echo "install.sh: systemd is not running here; start the sensor with: $bin record"
fi
