"""The orphan-hold check across three real services in-process: the ledger and payout (each on its
own PostgreSQL database, payout placing its hold in that ledger) and reconciliation asking both.

Payout runs in-process the way the ledger does (`create_app` with an ASGI transport to the
ledger), started inside the test so its consumer groups never overlap a payout integration test's."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from clearway.devstack.testing import collect_pages, migrated_database, running_app
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.main import create_app

from .conftest import LEDGER_TEST_API_KEY, RECONCILIATION_TEST_API_KEY

pytestmark = pytest.mark.integration

PAYOUT_TEST_API_KEY = "reconciliation-tests-payout-key"
ORPHAN_REFERENCE = "payout:wdr_doesnotexist:hold"


async def payout_app(
    make_database: Callable[[str], Awaitable[str]], kafka_bootstrap_servers: str, ledger_app: FastAPI
) -> FastAPI:
    """Payout on a database of its own, placing its holds in the tests' ledger (not started yet)."""
    from clearway.payout.config import PayoutSettings
    from clearway.payout.main import create_app as create_payout_app
    from clearway.payout.main import run_migrations as run_payout_migrations

    settings = PayoutSettings(
        database_url=await migrated_database(make_database, "reconpayout", run_payout_migrations),
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        dev_api_key=PAYOUT_TEST_API_KEY,
        ledger_url="http://ledger",
        ledger_api_key=LEDGER_TEST_API_KEY,
        sandbox_delivery_loop=False,
        log_json=False,
    )
    return create_payout_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))


async def place_hold(ledger: httpx.AsyncClient, reference: str, amount_minor: int) -> dict[str, Any]:
    """A hold placed straight in the ledger, as a crashed or buggy caller would leave it."""
    response = await ledger.post(
        "/transactions",
        json={
            "precise_amount": amount_minor,
            "currency": "KES",
            "reference": reference,
            "source": "@ReconciliationOrphanTest-KES",
            "destination": "@PayoutClearing-KES",
            "allow_overdraft": True,
            "inflight": True,
        },
    )
    assert response.status_code == 201 and response.json()["status"] == "INFLIGHT", response.text
    document: dict[str, Any] = response.json()
    return document


async def live_withdrawal_hold(ledger: httpx.AsyncClient, payout: httpx.AsyncClient) -> dict[str, Any]:
    """A withdrawal payout accepted (pending approval) and the hold it placed for it."""
    identity = await ledger.post("/identities", json={"identity_type": "individual", "first_name": "Akinyi"})
    identity_id = identity.json()["identity_id"]
    wallet = await ledger.post(
        "/balances", json={"indicator": f"wallet:{identity_id}", "identity_id": identity_id, "currency": "KES"}
    )
    credited = await ledger.post(
        "/transactions",
        json={
            "precise_amount": 20_000,
            "currency": "KES",
            "reference": f"recon-orphan-test-credit-{uuid.uuid4().hex}",
            "source": "@ReconciliationOrphanTest-KES",
            "destination": wallet.json()["balance_id"],
            "allow_overdraft": True,
        },
    )
    assert credited.status_code == 201, credited.text
    method = await payout.post(
        "/api/v1/payments/withdrawal-methods",
        json={"type": "mobile_money", "phone_number": "0712 345 678", "identity_id": identity_id},
    )
    assert method.status_code == 201, method.text
    created = await payout.post(
        "/api/v1/payments/withdrawals",
        json={
            "withdrawal_method_id": method.json()["id"],
            "amount_minor": 5_000,
            "currency": "KES",
            "identity_id": identity_id,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201, created.text
    withdrawal = created.json()["withdrawal"]
    assert withdrawal["status"] == "pending_approval", withdrawal
    hold = await ledger.get(f"/transactions/reference/payout:{withdrawal['id']}:hold")
    assert hold.status_code == 200 and hold.json()["status"] == "INFLIGHT", hold.text
    document: dict[str, Any] = hold.json()
    return document


async def orphan_breaks(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    found = await collect_pages(client, "/breaks", params={"kind": "orphan_hold"})
    return {item["subject"]: item for item in found}


async def test_a_hold_no_withdrawal_owns_is_an_orphan_and_a_live_withdrawals_hold_is_not(
    make_database: Callable[[str], Awaitable[str]],
    kafka_bootstrap_servers: str,
    ledger_app: FastAPI,
    ledger: httpx.AsyncClient,
    reconciliation_settings: ReconciliationSettings,
) -> None:
    orphan = await place_hold(ledger, ORPHAN_REFERENCE, 2_500)
    payout_service = await payout_app(make_database, kafka_bootstrap_servers, ledger_app)
    async with running_app(payout_service, api_key=PAYOUT_TEST_API_KEY, base_url="http://payout") as payout:
        live = await live_withdrawal_hold(ledger, payout)

        # Without payout configured, its holds are counted unverified and never reported.
        unasked = reconciliation_settings.model_copy(update={"payout_url": None, "orphan_hold_grace_s": 0})
        app = create_app(unasked, ledger_transport=httpx.ASGITransport(app=ledger_app))
        async with running_app(app, api_key=RECONCILIATION_TEST_API_KEY, base_url="http://reconciliation") as client:
            run = (await client.post("/checks/runs")).json()
            assert run["checked"]["holds_unverified"] >= 2 and run["checked"]["holds_live"] == 0, run
            assert orphan["transaction_id"] not in await orphan_breaks(client)

        asking = reconciliation_settings.model_copy(
            update={"payout_url": "http://payout", "payout_api_key": PAYOUT_TEST_API_KEY, "orphan_hold_grace_s": 0}
        )
        app = create_app(
            asking,
            ledger_transport=httpx.ASGITransport(app=ledger_app),
            payout_transport=httpx.ASGITransport(app=payout_service),
        )
        async with running_app(app, api_key=RECONCILIATION_TEST_API_KEY, base_url="http://reconciliation") as client:
            answer = await client.post("/checks/runs")
            assert answer.status_code == 200, answer.text
            run = answer.json()
            assert run["breaks_found"] >= 1 and run["checked"]["holds_orphaned"] >= 1, run
            assert run["checked"]["holds_live"] >= 1, run
            breaks = await orphan_breaks(client)
            assert live["transaction_id"] not in breaks
            found = breaks[orphan["transaction_id"]]
            assert found["detail"] == found["detail"] | {
                "transaction_id": orphan["transaction_id"],
                "reference": ORPHAN_REFERENCE,
                "amount_minor": 2_500,
                "remaining_minor": 2_500,
                "currency": "KES",
                "source": orphan["source"],
                "destination": orphan["destination"],
                "owner": "payout",
                "owner_id": "wdr_doesnotexist",
                "owner_status": "missing",
            }
            assert found["detail"]["created_at"] and found["resolved_at"] is None

            # Once voided, the hold holds nothing: a later run leaves it alone.
            voided = await ledger.put(
                f"/transactions/inflight/{orphan['transaction_id']}",
                json={"status": "void", "reference": f"{ORPHAN_REFERENCE}:void"},
            )
            assert voided.status_code in (200, 201), voided.text
            again = (await client.post("/checks/runs")).json()
            assert again["checked"]["holds_settled"] >= 1 and again["breaks_found"] == 0, again
