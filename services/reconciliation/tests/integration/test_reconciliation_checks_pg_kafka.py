"""One deliberately broken case for each cross-service check that had none (issue 9 §4), next to a
healthy twin that must not be reported: a deposit funding linked without its ledger posting, and a
submitted payout whose rail never reported it within the settlement window."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clearway.contracts.events import FundingDepositLinked, PayoutSubmitted, PayoutSucceeded
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until
from clearway.reconciliation.config import ReconciliationSettings

from .conftest import RunningFlow
from .flows import csv_statement, expect, import_csv, new_link

pytestmark = pytest.mark.integration
USERS = "liabilities/user_balances"
SETTLEMENT_WINDOW_S = 2


async def _breaks(client: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get("/breaks", params={"kind": kind, "limit": 100})).json()["data"]
    return found


async def test_a_linked_deposit_without_its_ledger_posting_is_a_break(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    run = uuid.uuid4().hex[:8]
    books = (await ledger.post("/ledgers", json={"name": f"funding {run}"})).json()
    wallet = (await ledger.post("/balances", json={"ledger_id": books["ledger_id"], "currency": "KES"})).json()
    posted, missing = (
        FundingDepositLinked(
            funding_id=f"fnd_{run}_{name}",
            workspace_id="wks_checks",
            transfer_id=f"trf_{run}_{name}",
            processor="acme-bank",
            amount_minor=4_000,
            currency="KES",
            payable_ids=[],
            occurred_at=datetime.now(UTC),
        )
        for name in ("posted", "missing")
    )
    # Funding's posting for the healthy deposit, under the reference funding gives it.
    recorded = await ledger.post(
        "/transactions",
        json={
            "amount": 40,
            "currency": "KES",
            "precision": 100,
            "reference": f"funding:{posted.funding_id}:deposit:{posted.transfer_id}",
            "source": "@Deposits-KES",
            "destination": wallet["balance_id"],
            "allow_overdraft": True,
        },
    )
    assert recorded.status_code == 201, recorded.text
    async with running_flow() as client, started_producer(kafka_bootstrap_servers) as producer:
        for linked in (posted, missing):
            await publish_as_processor(
                producer,
                "funding.deposit_linked",
                linked.model_dump(mode="json"),
                key=linked.funding_id,
                event_id=f"evt-{linked.funding_id}",
                source="funding",
            )

        async def reported() -> list[dict[str, Any]]:
            return [b for b in await _breaks(client, "deposit_not_posted") if run in b["detail"]["funding_id"]]

        (found,) = await wait_until(reported, "the deposit without its posting is reported", timeout_s=30)
        assert found["detail"]["funding_id"] == missing.funding_id
        assert (
            found["detail"]["expected_ledger_reference"]
            == f"funding:{missing.funding_id}:deposit:{missing.transfer_id}"
        )
        # Both events were handled (the healthy one first): nothing more is coming for the posted one.
        assert [b["detail"]["funding_id"] for b in await reported()] == [missing.funding_id]


async def test_a_submitted_payout_the_rail_never_reports_is_a_break_after_its_window(
    running_flow: RunningFlow,
    ledger: httpx.AsyncClient,
    kafka_bootstrap_servers: str,
    reconciliation_settings: ReconciliationSettings,
) -> None:
    run = uuid.uuid4().hex[:8]
    provider = f"rail{run}"
    settings = reconciliation_settings.model_copy(update={"payout_settlement_window_s": SETTLEMENT_WINDOW_S})
    async with running_flow(settings) as client, started_producer(kafka_bootstrap_servers) as producer:
        link = await new_link(client, ledger, kind="mobile_money", external_account_id=f"payout:{provider}:KES")
        # The user's wallet on the books first, so each payout's initiation can move it.
        await expect(
            client,
            link["id"],
            direction="inbound",
            amount_minor=9_000,
            reference=f"IN-{run}",
            account_path=f"{USERS}:usr_{run}",
        )
        await import_csv(client, link["id"], csv_statement(("inbound", 9_000, f"IN-{run}", f"in-{run}")))
        paid, silent = (
            PayoutSubmitted(
                withdrawal_id=f"wdr_{run}_{name}",
                payment_intent_id=f"pi_{run}_{name}",
                user_id=f"usr_{run}",
                # The same amount: the rail's report may arrive before its submission (two topics), and
                # must still settle its own payout, never the other one (payouts match by reference only).
                amount_minor=1_000,
                currency="KES",
                status="submitted",
                method_type="mobile_money",
                provider=provider,
                origin="user",
                provider_reference=f"ref-{name}",
                occurred_at=datetime.now(UTC),
            )
            for name in ("paid", "silent")
        )

        async def publish(topic: str, body: PayoutSubmitted | PayoutSucceeded, suffix: str) -> None:
            await publish_as_processor(
                producer,
                topic,
                body.model_dump(mode="json"),
                key=body.withdrawal_id,
                event_id=f"evt-{body.withdrawal_id}-{suffix}",
                source="payout",
            )

        async def payout_lines() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = (
                await client.get("/external-transactions", params={"link_id": link["id"]})
            ).json()["data"]
            return [t for t in found if t["direction"] == "outbound"]

        # The worst order: the silent payout is expected, then the rail reports the paid one before
        # the paid one's own submission arrives (two topics, no order between them).
        await publish("payout.submitted", silent, "submitted")
        await wait_until(
            lambda: _payout_expected(client, link["id"], silent.withdrawal_id), "the silent payout is expected"
        )
        succeeded = PayoutSucceeded(
            **{**paid.model_dump(exclude={"provider_reference", "batch_id"}), "status": "succeeded"},
            receipt=f"RCPT{run}",
        )
        await publish("payout.succeeded", succeeded, "succeeded")
        await wait_until(payout_lines, "the rail's report is recorded")
        await publish("payout.submitted", paid, "submitted")

        async def both_known() -> bool:
            listed = (await client.get("/expectations", params={"link_id": link["id"], "limit": 100})).json()["data"]
            statuses = {e["source_id"]: e["status"] for e in listed if e["source"] == "payout"}
            return statuses == {paid.withdrawal_id: "matched", silent.withdrawal_id: "open"}

        await wait_until(both_known, "the paid payout is settled and the silent one still expected", timeout_s=30)
        await asyncio.sleep(SETTLEMENT_WINDOW_S + 0.5)  # the check compares ages to a wall-clock window
        ran = await client.post("/checks/runs")
        assert ran.status_code == 200, ran.text
        found = [b for b in await _breaks(client, "payout_not_settled") if b["link_id"] == link["id"]]
        assert [b["detail"]["withdrawal_id"] for b in found] == [silent.withdrawal_id]


async def _payout_expected(client: httpx.AsyncClient, link_id: str, withdrawal_id: str) -> bool:
    listed = (await client.get("/expectations", params={"link_id": link_id, "limit": 100})).json()["data"]
    return any(e["source_id"] == withdrawal_id for e in listed)
