#!/usr/bin/env bash
# Creates .venv from requirements.txt for ws_client.py (receiver.py needs only the standard
# library). Idempotent: reinstalls only when requirements.txt changed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "setup-venv.sh: python3-venv is missing (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
if [[ ! -x .venv/bin/python3 ]] || [[ requirements.txt -nt .venv/.installed ]] ||
   ! .venv/bin/python3 -c 'import websockets' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
