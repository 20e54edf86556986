#!/usr/bin/env bash
# Installs the mock's and the clients' dependencies: a Python venv in .venv (requirements.txt)
# and the npm clients in node_modules (package-lock.json). Idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
if ! command -v openssl >/dev/null || ! command -v curl >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq openssl curl python3-venv >/dev/null
fi
if [[ ! -x .venv/bin/python3 ]] || ! .venv/bin/python3 -c 'import h2, openai, anthropic' 2>/dev/null ||
   [[ requirements.txt -nt .venv/.installed ]]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements.txt
  touch .venv/.installed
fi
if command -v node >/dev/null; then
  if [[ ! -d node_modules/openai ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
else
  echo "setup-venv.sh: node not found; the openai-node group cannot be recorded" >&2
fi
