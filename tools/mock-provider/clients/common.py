"""Shared helpers for the client scenario scripts.

The mock's address comes from the environment that record-fixtures.sh sets:
MOCK_HTTPS_PORT, MOCK_HTTP_PORT (plain), MOCK_CA (CA certificate path). Each script defines
scenarios as functions named `scenario_*` and runs them in definition order (or the ones named on
the command line). A scenario raises on any failure; deliberate error scenarios must see the
expected exception class.
"""
from __future__ import annotations

import inspect
import os
import sys
import time
import traceback
import warnings

OPENAI_KEY = "sk-proj-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567"
ANTHROPIC_KEY = "sk-ant-api03-TESTKEY0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789AA"


def https_port() -> int:
    return int(os.environ["MOCK_HTTPS_PORT"])


def http_port() -> int:
    return int(os.environ["MOCK_HTTP_PORT"])


def base(path: str = "") -> str:
    return f"https://localhost:{https_port()}{path}"


class ScenarioFailed(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise ScenarioFailed(msg)


def expect_error(exc_type, fn, *args, **kwargs):
    """Runs fn and requires it to raise exc_type (and nothing else)."""
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        return e
    raise ScenarioFailed(f"expected {exc_type.__name__}, call succeeded")


def run(module_globals: dict) -> None:
    warnings.simplefilter("error", DeprecationWarning)  # a deprecated model name would be a scenario bug
    scenarios = [(n, f) for n, f in module_globals.items() if n.startswith("scenario_") and inspect.isfunction(f)]
    wanted = sys.argv[1:]
    if wanted:
        scenarios = [(n, f) for n, f in scenarios if n[len("scenario_"):] in wanted or n in wanted]
        if not scenarios:
            sys.exit(f"no scenario matches {wanted}")
    failed = 0
    for name, fn in scenarios:
        t0 = time.monotonic()
        try:
            detail = fn()
            print(f"ok   {name} ({(time.monotonic() - t0) * 1000:.0f} ms){': ' + str(detail) if detail else ''}",
                  flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
        time.sleep(0.05)  # keeps each scenario's connections apart in time in the recording
    print(f"{len(scenarios) - failed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
