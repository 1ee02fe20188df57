"""A service refuses to start under `python -O`, which would strip its invariant checks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from clearway.platform.invariants import ASSERTIONS_DISABLED_MESSAGE, require_assertions_enabled

SERVICES = ("ledger", "authorization", "funding", "payout", "reconciliation")
BUILD_APP = "from clearway.{service}.main import create_app; create_app()"


def test_assertions_are_on_in_the_test_run() -> None:
    require_assertions_enabled()


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_refuses_to_build_its_app_without_asserts(service: str) -> None:
    # Building the app connects to nothing, so the only reason this can fail is the -O guard.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONOPTIMIZE"}
    optimised = subprocess.run(
        [sys.executable, "-O", "-c", BUILD_APP.format(service=service)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert optimised.returncode != 0
    assert "AssertionsDisabledError" in optimised.stderr and ASSERTIONS_DISABLED_MESSAGE[:40] in optimised.stderr
    normal = subprocess.run(
        [sys.executable, "-c", BUILD_APP.format(service=service)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert normal.returncode == 0, normal.stderr[-2000:]


def test_the_migrate_command_refuses_to_run_without_asserts() -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONOPTIMIZE"}
    optimised = subprocess.run(
        [sys.executable, "-O", "-m", "clearway.payout.main", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment, "CLEARWAY_PAYOUT_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert optimised.returncode != 0 and "AssertionsDisabledError" in optimised.stderr
