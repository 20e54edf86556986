#!/usr/bin/env bash
# Builds, once, the small Debian root filesystem the container test (crates/oisp-sensor/tests/
# container_e2e.rs) runs curl in with podman: mmdebstrap's minbase variant plus curl, from the
# Debian mirror apt uses (no image registry needed). About 20 s and 180 MB; kept in DIR and
# rebuilt only when the wanted suite or package list changes. Needs root.
#
#   scripts/container-rootfs.sh DIR
set -euo pipefail
dest=${1:?usage: container-rootfs.sh DIR}
suite=${OISP_ROOTFS_SUITE:-bookworm}
pkgs=curl
want="$suite minbase $pkgs"
stamp="$dest/.oisp-rootfs"

ready() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }
ready && exit 0

mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
chmod 600 "$dest.lock"
flock 9
ready && exit 0
command -v mmdebstrap >/dev/null || {
  echo "container-rootfs.sh: mmdebstrap missing (scripts/install-deps.sh installs it)" >&2
  exit 1
}
rm -rf "$dest.tmp"
start=$(date +%s)
mmdebstrap --quiet --variant=minbase --include="$pkgs" "$suite" "$dest.tmp" </dev/null
printf '%s\n' "$want" >"$dest.tmp/.oisp-rootfs"
chmod 600 "$dest.tmp/.oisp-rootfs"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "container-rootfs.sh: $dest built in $(($(date +%s) - start)) s ($(du -sh "$dest" | cut -f1))" >&2
