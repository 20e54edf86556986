#!/usr/bin/env bash
# Creates tools/otlp-receiver/.venv from requirements.txt. Idempotent: does nothing when the venv
# already imports the receiver's packages and requirements.txt has not changed since.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
# Tests run in parallel: one setup at a time.
exec 9>"$HERE/.venv.lock"
flock 9
if ! command -v python3 >/dev/null; then
  echo "setup-venv.sh: python3 not found (install python3 and python3-venv)" >&2
  exit 1
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup-venv.sh: python3 has no venv/ensurepip module (install python3-venv)" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python3 ]] || [[ requirements.txt -nt .venv/.installed ]] ||
   ! .venv/bin/python3 -c 'import grpc, google.protobuf, opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
