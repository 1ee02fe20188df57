"""Seed 002 against the running ledger process (the same sequence the integration test runs in-process)."""

from __future__ import annotations

import httpx
import pytest

from clearway.devstack.scenarios.seed_charge_card import run_seed_002
from clearway.devstack.stack import Platform

pytestmark = pytest.mark.e2e


async def test_seed_002_against_running_ledger(running_platform: Platform) -> None:
    async with httpx.AsyncClient(
        base_url=running_platform.url("ledger"), headers={"X-Blnk-Key": running_platform.api_key}, timeout=30
    ) as client:
        await run_seed_002(client)
