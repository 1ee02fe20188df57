"""Seed 003's flows through the reconciliation service and the ledger's `reconcile`: a single
payment received, a bulk receipt split across three users, a two-phase send, a batch send with a
cancellation, statement re-import, manual match and unmatch, breaks, and the daily report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from clearway.contracts.events import TopupSucceeded
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import RunningFlow
from .flows import account, balance, csv_statement, expect, import_csv, new_link, unreconciled

pytestmark = pytest.mark.integration
USERS = "liabilities/user_balances"


async def test_a_single_payment_received_is_reconciled_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        await expect(
            client,
            link["id"],
            direction="inbound",
            amount_minor=5_000,
            reference="INV-1",
            account_path=f"{USERS}:usr_a",
        )
        statement = csv_statement(("inbound", 5_000, "INV-1", "bank-1"))
        first = await import_csv(client, link["id"], statement)
        assert (first["imported"], first["skipped_duplicates"]) == (1, 0)
        again = await import_csv(client, link["id"], statement)
        assert (again["imported"], again["skipped_duplicates"]) == (0, 1)
        assert await unreconciled(client, link["id"]) == []
        assert await balance(ledger, link["ledger_id"], "assets/operating") == 5_000
        assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_a") == 5_000
        (match,) = (await client.get("/matches", params={"link_id": link["id"]})).json()["data"]
        assert (match["strategy"], match["rule"], match["status"]) == ("one_to_one", "reference", "posted")


async def test_a_bulk_receipt_is_split_across_three_users_and_its_clearing_account_clears(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        items = [
            {"account_path": f"{USERS}:usr_{name}", "amount_minor": amount}
            for name, amount in (("x", 1_000), ("y", 2_000), ("z", 3_000))
        ]
        await expect(client, link["id"], direction="inbound", amount_minor=6_000, reference="BULK-1", items=items)
        await import_csv(client, link["id"], csv_statement(("inbound", 6_000, "BULK-1", "bank-bulk")))
        for name, amount in (("x", 1_000), ("y", 2_000), ("z", 3_000)):
            assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_{name}") == amount
        clearing = await account(ledger, link["ledger_id"], "liabilities/bulk_receivables")
        assert clearing is not None and clearing["clearing_status"] == "cleared"


async def test_a_two_phase_send_and_a_batch_send_with_a_cancellation(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        ledger_id = link["ledger_id"]
        await expect(
            client,
            link["id"],
            direction="inbound",
            amount_minor=10_000,
            reference="TOPUP",
            account_path=f"{USERS}:usr_s",
        )
        await import_csv(client, link["id"], csv_statement(("inbound", 10_000, "TOPUP", "bank-in")))
        send = await expect(
            client,
            link["id"],
            direction="outbound",
            amount_minor=2_000,
            reference="PAY-1",
            account_path=f"{USERS}:usr_s",
            external_id="withdrawal-1",
        )
        pending = f"liabilities/pending_withdrawals:{send['source_id']}"
        assert (await account(ledger, ledger_id, pending) or {}).get("clearing_status") == "pending"
        listed = (await client.get("/clearing-accounts", params={"ledger_id": ledger_id})).json()["data"]
        assert any(item["path"] == pending and item["age_s"] is not None for item in listed)
        await import_csv(client, link["id"], csv_statement(("outbound", 2_000, "PAY-1", "bank-out-1")))
        assert (await account(ledger, ledger_id, pending) or {}).get("clearing_status") == "cleared"

        batch = [
            await expect(
                client,
                link["id"],
                direction="outbound",
                amount_minor=amount,
                reference="BATCH-1",
                account_path=f"{USERS}:usr_s",
            )
            for amount in (1_000, 1_500, 500)
        ]
        cancelled = await client.post(f"/expectations/{batch[2]['id']}/cancellation", json={"reason": "user cancelled"})
        assert cancelled.status_code == 200 and cancelled.json()["initiation_status"] == "reversed"
        await import_csv(client, link["id"], csv_statement(("outbound", 2_500, "BATCH-1", "bank-batch")))
        matches = (await client.get("/matches", params={"link_id": link["id"]})).json()["data"]
        assert [m["strategy"] for m in matches if m["status"] == "posted"][-1] == "one_to_many"
        assert await balance(ledger, ledger_id, f"{USERS}:usr_s") == 10_000 - 2_000 - 2_500
        assert await balance(ledger, ledger_id, "assets/operating") == 10_000 - 2_000 - 2_500
        pending_now = await ledger.get(
            f"/ledgers/{ledger_id}/accounts", params={"clearing_status": "pending", "limit": 100}
        )
        assert pending_now.json()["data"] == []
        assert await unreconciled(client, link["id"]) == []


async def test_dry_run_manual_match_and_unmatch(running_flow: RunningFlow, ledger: httpx.AsyncClient) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger, auto_match=False)
        await import_csv(client, link["id"], csv_statement(("inbound", 7_700, None, "bank-odd")))
        expectation = await expect(
            client,
            link["id"],
            direction="inbound",
            amount_minor=7_700,
            reference="ODD",
            account_path=f"{USERS}:usr_m",
            expected_on="2026-11-28",
        )
        dry = (await client.post("/matching/runs", json={"link_id": link["id"], "dry_run": True})).json()
        assert dry["dry_run"] and len(dry["matches"]) == 1 and dry["posted"] == 0
        assert dry["matches"][0]["entry_types"] == ["reconciliation.reconcile_payment"]
        assert dry["matches"][0]["expectation_id"] == expectation["id"]
        assert len(await unreconciled(client, link["id"])) == 1  # a dry run changes nothing

        (line,) = await unreconciled(client, link["id"])
        manual = await client.post(
            "/matches",
            json={
                "external_transaction_ids": [line["id"]],
                "expectation_ids": [expectation["id"]],
                "reason": "same payer",
            },
        )
        assert manual.status_code == 201 and manual.json()["status"] == "posted", manual.text
        assert manual.json()["audit"][0]["actor"] == "dev-admin"
        refused = await client.delete(f"/matches/{manual.json()['id']}", params={"reason": "oops"})
        assert refused.status_code == 409 and refused.json()["code"] == "MATCH_ALREADY_POSTED"
        assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_m") == 7_700


async def test_a_statement_closing_balance_the_ledger_does_not_show_is_a_break(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    camt_like_csv_with_no_balance = csv_statement(("inbound", 900, "INV-9", "bank-9"))
    async with running_flow() as client:
        link = await new_link(client, ledger)
        await expect(
            client, link["id"], direction="inbound", amount_minor=900, reference="INV-9", account_path=f"{USERS}:usr_b"
        )
        await import_csv(client, link["id"], camt_like_csv_with_no_balance)
        run = (await client.post("/checks/runs")).json()
        assert run["breaks_found"] == 0
        report = (await client.get(f"/links/{link['id']}/reports/daily", params={"day": "2026-11-29"})).json()
        assert (report["in_minor"], report["out_minor"], report["ledger_balance_minor"]) == (900, 0, 900)
        csv_report = await client.get(
            f"/links/{link['id']}/reports/daily", params={"day": "2026-11-29", "format": "csv"}
        )
        assert csv_report.headers["content-type"].startswith("text/csv") and "opening_minor" in csv_report.text

        async def checked() -> bool:
            return bool((await client.get("/breaks")).status_code == 200)

        await wait_until(checked, "breaks are listed")


async def test_a_mobile_money_collection_reconciles_on_its_collection_account_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    provider = f"rail{uuid.uuid4().hex[:8]}"  # a rail of its own: collection accounts are unique
    topup = TopupSucceeded(
        topup_id=f"top_{uuid.uuid4().hex}",
        workspace_id="default",
        identity_id="idt_collector",
        amount_minor=1_500,
        currency="KES",
        provider=provider,
        phone_masked="+254******678",
        checkout_request_id="ws_CO_1",
        resolved_by="callback",
        receipt=uuid.uuid4().hex[:10].upper(),
        ledger_reference="topup:x",
        ledger_transaction_id="txn_x",
        occurred_at=datetime.now(UTC),
    )
    payload = topup.model_dump(mode="json")
    async with running_flow() as client, started_producer(kafka_bootstrap_servers) as producer:
        link = await new_link(client, ledger, kind="mobile_money", external_account_id=f"collections:{provider}:KES")
        for event_id in ("evt-1", "evt-1", "evt-2"):  # a redelivery, then the same top-up published again
            await publish_as_processor(
                producer,
                "topup.succeeded",
                payload,
                key=topup.topup_id,
                event_id=f"{event_id}-{provider}",
                source="funding",
            )

        async def posted() -> bool:
            return await balance(ledger, link["ledger_id"], "assets/operating") == 1_500

        await wait_until(posted, "the collection is reconciled into the link's cash account", timeout_s=30)
        found = (await client.get("/external-transactions", params={"link_id": link["id"]})).json()["data"]
        assert [(t["external_id"], t["status"]) for t in found] == [(topup.receipt, "reconciled")]
        assert await balance(ledger, link["ledger_id"], f"{USERS}:idt_collector") == 1_500
        expectations = (await client.get("/expectations", params={"link_id": link["id"]})).json()["data"]
        assert [(e["source"], e["status"]) for e in expectations] == [("topup", "matched")]


async def test_a_single_purpose_route_credits_its_account_with_what_no_expectation_explains(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    """Rule 4: a paybill's link routes unexplained inbound money to its account; the earlier rules
    still win, money sent out is never routed, and a second run routes nothing twice."""
    async with running_flow() as client:
        refused = await client.post(
            "/links",
            json={
                "name": "Paybill 888",
                "kind": "mobile_money",
                "ledger_id": "led_any",
                "currency": "KES",
                "route_account_path": "assets/operating",
            },
        )
        assert refused.status_code == 422 and refused.json()["code"] == "ACCOUNT_PATH_UNSUPPORTED", refused.text
        link = await new_link(client, ledger, route_account_path=f"{USERS}:usr_paybill")
        assert link["route_account_path"] == f"{USERS}:usr_paybill"
        await expect(
            client,
            link["id"],
            direction="inbound",
            amount_minor=3_000,
            reference="INV-R",
            account_path=f"{USERS}:usr_o",
        )
        statement = csv_statement(
            ("inbound", 3_000, "INV-R", "route-1"),
            ("inbound", 700, "M-PESA QX1", "route-2"),
            ("inbound", 800, None, "route-3"),
            ("outbound", 400, "OUT-X", "route-4"),
        )
        await import_csv(client, link["id"], statement)

        assert [line["external_id"] for line in await unreconciled(client, link["id"])] == ["route-4"]
        assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_o") == 3_000
        assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_paybill") == 1_500
        matches = (await client.get("/matches", params={"link_id": link["id"]})).json()["data"]
        assert sorted((m["rule"], m["status"]) for m in matches) == [
            ("reference", "posted"),
            ("route", "posted"),
            ("route", "posted"),
        ]
        routed = (await client.get("/expectations", params={"link_id": link["id"], "status": "matched"})).json()
        assert sorted(e["amount_minor"] for e in routed["data"] if e["source"] == "route") == [700, 800]

        again = await client.post("/matching/runs", json={"link_id": link["id"], "dry_run": False})
        assert again.status_code == 200 and again.json()["matches"] == [], again.text
        assert await balance(ledger, link["ledger_id"], f"{USERS}:usr_paybill") == 1_500
