"""Deposits belong to the workspace that owns the account they settled on (issue 14 §3). Found by
trying two workspace keys against `make run`: any workspace could list and link any deposit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clearway.devstack.testing import collect_pages, publish_as_processor, started_producer, wait_until

from .conftest import OTHER_WORKSPACE_KEY, RunningFlow
from .test_funding_flows_with_ledger import new_payee

pytestmark = pytest.mark.integration
OTHER = {"X-API-Key": OTHER_WORKSPACE_KEY}


def _transfer(account_id: str, amount_minor: int) -> dict[str, Any]:
    return {
        "transfer_id": f"trf_{uuid.uuid4().hex[:16]}",
        "processor": "acme-bank",
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": "USD",
        "account_id": account_id,
        "payment_reference": None,
        "counterparty": {"name": "Initech", "account": None},
        "settled_at": datetime.now(UTC).isoformat(),
    }


async def _deposit_ids(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> set[str]:
    if headers is None:  # the platform key: every deposit of the session, page after page
        return {deposit["transfer_id"] for deposit in await collect_pages(client, "/deposits")}
    # A workspace key sees only its own few: one page holds them.
    page = await client.get("/deposits", params={"limit": 100}, headers=headers)
    assert page.status_code == 200 and not page.json()["has_more"], page.text
    return {deposit["transfer_id"] for deposit in page.json()["data"]}


async def test_a_workspace_key_sees_and_links_only_deposits_on_its_own_receiving_accounts(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    run = uuid.uuid4().hex[:8]
    theirs_account, elsewhere_account = f"acct-ws-other-{run}", f"acct-elsewhere-{run}"
    theirs, elsewhere = _transfer(theirs_account, 1_000), _transfer(elsewhere_account, 2_000)
    async with running_flow() as client, started_producer(kafka_bootstrap_servers) as producer:
        for body in (theirs, elsewhere):
            await publish_as_processor(
                producer, "transfer.created", body, key=body["transfer_id"], event_id=uuid.uuid4().hex, source="bank"
            )

        async def both_recorded() -> bool:  # a platform key sees every deposit
            return {theirs["transfer_id"], elsewhere["transfer_id"]} <= await _deposit_ids(client)

        await wait_until(both_recorded, "both deposits are recorded")
        assert not {theirs["transfer_id"], elsewhere["transfer_id"]} & await _deposit_ids(client, OTHER)

        claimed = await client.patch("/workspace", json={"receiving_account_ids": [theirs_account]}, headers=OTHER)
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["receiving_account_ids"] == [theirs_account]
        visible = await _deposit_ids(client, OTHER)
        assert theirs["transfer_id"] in visible and elsewhere["transfer_id"] not in visible
        every = await collect_pages(client, "/deposits")
        (foreign,) = [d for d in every if d["transfer_id"] == elsewhere["transfer_id"]]
        hidden = await client.get(f"/deposits/{foreign['id']}", headers=OTHER)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "DEPOSIT_NOT_FOUND")

        # Another workspace (the platform key's own, `default`) cannot take the account over.
        taken = await client.patch("/workspace", json={"receiving_account_ids": [theirs_account]})
        assert (taken.status_code, taken.json()["code"]) == (409, "RECEIVING_ACCOUNT_TAKEN"), taken.text
        assert taken.json()["account_ids"] == [theirs_account]

        # Linking someone else's deposit to one's own funding is "not found", as a missing one is.
        payee = await new_payee(ledger, "Tenancy")
        payable = await client.post(
            "/payable",
            json={"payee_id": payee, "amount_minor": 2_000, "currency": "USD", "description": "work"},
            headers=OTHER,
        )
        assert payable.status_code == 201, payable.text
        approved = await client.put(f"/payable/{payable.json()['id']}/approve", headers=OTHER)
        assert approved.status_code == 200, approved.text
        funding = await client.post(
            "/funding",
            json={"payable_ids": [payable.json()["id"]], "recipient": {"name": "Ops", "email": "ops@example.com"}},
            headers={**OTHER, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert funding.status_code == 201, funding.text
        refused = await client.post(
            f"/funding/{funding.json()['id']}/link-deposit",
            json={"transfer_id": elsewhere["transfer_id"]},
            headers=OTHER,
        )
        assert (refused.status_code, refused.json()["code"]) == (404, "DEPOSIT_NOT_FOUND"), refused.text
        assert (await client.get(f"/deposits/{foreign['id']}")).json()["linked_funding_id"] is None
