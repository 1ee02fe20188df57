"""A service refuses to start under `python -O`, which would strip its invariant checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from clearway.platform.invariants import ASSERTIONS_DISABLED_MESSAGE, require_assertions_enabled

SERVICES = ("ledger", "authorization", "funding", "payout", "reconciliation")
# One interpreter builds every service's app and reports, per service, "built" or the error that
# stopped it: starting an interpreter and importing the platform costs seconds, so each mode
# (optimised, normal) pays that once instead of once per service.
BUILD_EVERY_APP = f"""
import importlib, json
outcomes = {{}}
for service in {SERVICES!r}:
    try:
        importlib.import_module(f"clearway.{{service}}.main").create_app()
    except Exception as error:
        outcomes[service] = f"{{type(error).__name__}}: {{error}}"
    else:
        outcomes[service] = "built"
print(json.dumps(outcomes))
"""


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONOPTIMIZE"}


def _build_every_app(*interpreter_options: str) -> dict[str, str]:
    # Building an app connects to nothing, so under -O the only reason a build can fail is the guard.
    finished = subprocess.run(
        [sys.executable, *interpreter_options, "-c", BUILD_EVERY_APP],
        capture_output=True,
        text=True,
        timeout=120,
        env=_environment(),
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    outcomes: dict[str, str] = json.loads(finished.stdout.strip().splitlines()[-1])
    assert sorted(outcomes) == sorted(SERVICES), outcomes
    return outcomes


@pytest.fixture(scope="module")
def optimised_builds() -> dict[str, str]:
    return _build_every_app("-O")


@pytest.fixture(scope="module")
def normal_builds() -> dict[str, str]:
    return _build_every_app()


def test_assertions_are_on_in_the_test_run() -> None:
    require_assertions_enabled()


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_to_build_its_app_without_asserts(
    service: str, optimised_builds: dict[str, str], normal_builds: dict[str, str]
) -> None:
    refused = optimised_builds[service]
    assert refused.startswith("AssertionsDisabledError: "), refused
    assert ASSERTIONS_DISABLED_MESSAGE[:40] in refused
    assert normal_builds[service] == "built"


def test_the_migrate_command_refuses_to_run_without_asserts() -> None:
    optimised = subprocess.run(
        [sys.executable, "-O", "-m", "clearway.payout.main", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_environment(), "CLEARWAY_PAYOUT_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert optimised.returncode != 0 and "AssertionsDisabledError" in optimised.stderr
