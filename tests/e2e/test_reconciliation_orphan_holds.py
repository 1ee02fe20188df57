"""The orphan-hold check over the running platform: reconciliation asks the ledger for its inflight
holds and payout whether each withdrawal still needs its hold. A hold placed straight in the ledger
for a withdrawal payout never heard of is reported; a real withdrawal's hold is not.

The suite judges holds after 5 s (`E2E_SERVICE_ENV`), not the 60 s a deployment waits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.stack import Platform
from clearway.devstack.testing import collect_pages, wait_until

from .withdrawals_scenario import WithdrawalApi, new_phone

pytestmark = pytest.mark.e2e
GRACE_S = 5


@pytest_asyncio.fixture(loop_scope="session")
async def api(running_platform: Platform) -> AsyncIterator[WithdrawalApi]:
    platform = running_platform
    assert platform.approver_api_key is not None
    urls = {service: platform.url(service) for service in ("ledger", "funding", "payout")}
    async with WithdrawalApi(urls, platform.api_key, platform.approver_api_key, platform.user_token) as api:
        yield api


async def credit_wallet(api: WithdrawalApi, identity_id: str, amount_minor: int) -> None:
    balance = await api.ledger.post(
        "/balances", json={"indicator": f"wallet:{identity_id}", "identity_id": identity_id, "currency": "KES"}
    )
    assert balance.status_code in (200, 201), balance.text
    credited = await api.ledger.post(
        "/transactions",
        json={
            "precise_amount": amount_minor,
            "currency": "KES",
            "reference": f"e2e-orphan-credit-{uuid.uuid4().hex}",
            "source": "@E2EOrphanHoldFunding-KES",
            "destination": balance.json()["balance_id"],
            "allow_overdraft": True,
        },
    )
    assert credited.status_code == 201 and credited.json()["status"] == "APPLIED", credited.text


async def orphan_breaks(recon: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found = await collect_pages(recon, "/breaks", params={"kind": "orphan_hold"})
    return {item["subject"]: item for item in found}


async def test_a_hold_for_a_withdrawal_that_does_not_exist_is_reported_and_a_real_ones_is_not(
    api: WithdrawalApi, running_platform: Platform
) -> None:
    identity_id = await api.new_user()
    await credit_wallet(api, identity_id, 20_000)
    user = api.as_user(identity_id)
    method = await api.add_method(user, new_phone())
    created = await api.withdraw(user, method["id"], 8_000)
    assert created.status_code == 201, created.text
    withdrawal = created.json()["withdrawal"]
    assert withdrawal["status"] == "pending_approval", withdrawal
    live = (await api.ledger.get(f"/transactions/reference/payout:{withdrawal['id']}:hold")).json()
    assert live["status"] == "INFLIGHT", live

    missing_id = f"wd_e2e{uuid.uuid4().hex}"
    placed = await api.ledger.post(
        "/transactions",
        json={
            "precise_amount": 3_300,
            "currency": "KES",
            "reference": f"payout:{missing_id}:hold",
            "source": "@E2EOrphanHoldFunding-KES",
            "destination": "@PayoutClearing-KES",
            "allow_overdraft": True,
            "inflight": True,
        },
    )
    assert placed.status_code == 201 and placed.json()["status"] == "INFLIGHT", placed.text
    orphan = placed.json()

    headers = {"X-API-Key": running_platform.api_key}
    async with httpx.AsyncClient(base_url=running_platform.url("reconciliation"), headers=headers, timeout=30) as recon:
        runs: list[dict[str, Any]] = []

        async def reported() -> dict[str, Any] | None:
            answer = await recon.post("/checks/runs")
            assert answer.status_code == 200, answer.text
            runs.append(answer.json())
            return (await orphan_breaks(recon)).get(orphan["transaction_id"])

        # Not before the grace period: the hold is too young to judge.
        assert await reported() is None
        found = await wait_until(reported, "the orphan hold is reported", timeout_s=GRACE_S + 10, interval_s=1)

        assert found["kind"] == "orphan_hold" and found["resolved_at"] is None
        assert found["detail"] == found["detail"] | {
            "transaction_id": orphan["transaction_id"],
            "reference": f"payout:{missing_id}:hold",
            "amount_minor": 3_300,
            "remaining_minor": 3_300,
            "currency": "KES",
            "owner": "payout",
            "owner_id": missing_id,
            "owner_status": "missing",
        }
        # The live hold is older than the orphan, so the run that reported the orphan judged it too.
        assert runs[-1]["checked"]["holds_live"] >= 1, runs[-1]
        assert live["transaction_id"] not in await orphan_breaks(recon)
