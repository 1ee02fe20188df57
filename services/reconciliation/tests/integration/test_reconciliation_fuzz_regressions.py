"""Defects `make fuzz` found in reconciliation's HTTP API, each pinned by the request that found it."""

from __future__ import annotations

import pytest

from .conftest import RunningFlow

pytestmark = pytest.mark.integration


async def test_clearing_accounts_of_an_unknown_ledger_is_a_404_not_a_502(running_flow: RunningFlow) -> None:
    async with running_flow() as client:
        answer = await client.get("/clearing-accounts", params={"ledger_id": "no-such-ledger"})
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "LEDGER_NOT_FOUND"
