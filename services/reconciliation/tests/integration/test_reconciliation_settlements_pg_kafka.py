"""Seed 003's remaining settlement flows through the reconciliation service and the ledger: a batch
with a payment cancelled after joining it, reversals after settlement (a payment and a batch), the
card network's three-level settlement, and a match the ledger refuses held for an operator."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clearway.contracts.events import (
    CardClearingFileReceived,
    CardSettlementReceived,
    ClearedCardTransaction,
    Counterparty,
    SettledClearing,
    TransferCreated,
)
from clearway.devstack.testing import publish_as_processor, started_producer, wait_until

from .conftest import RunningFlow
from .flows import account, balance, csv_statement, expect, import_csv, new_link, unreconciled

pytestmark = pytest.mark.integration
USERS = "liabilities/user_balances"


async def _pending_clearing_accounts(ledger: httpx.AsyncClient, ledger_id: str) -> list[dict[str, Any]]:
    response = await ledger.get(f"/ledgers/{ledger_id}/accounts", params={"clearing_status": "pending", "limit": 100})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _fund(client: httpx.AsyncClient, link_id: str, user: str, amount_minor: int) -> None:
    await expect(
        client,
        link_id,
        direction="inbound",
        amount_minor=amount_minor,
        reference=f"TOPUP-{user}",
        account_path=f"{USERS}:{user}",
    )
    await import_csv(client, link_id, csv_statement(("inbound", amount_minor, f"TOPUP-{user}", f"in-{user}")))


async def _payments(client: httpx.AsyncClient, link_id: str, user: str, *amounts: int) -> list[dict[str, Any]]:
    return [
        await expect(
            client,
            link_id,
            direction="outbound",
            amount_minor=amount,
            account_path=f"{USERS}:{user}",
            reference=f"{user}-pay-{index}",
        )
        for index, amount in enumerate(amounts)
    ]


async def test_a_payment_cancelled_after_joining_a_batch_and_the_batch_reversed_after_settlement(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        ledger_id = link["ledger_id"]
        await _fund(client, link["id"], "usr_b", 10_000)
        payments = await _payments(client, link["id"], "usr_b", 1_000, 2_000, 3_000)
        formed = await client.post(
            "/batches",
            json={"link_id": link["id"], "reference": "BATCH-7", "expectation_ids": [p["id"] for p in payments]},
        )
        assert formed.status_code == 201, formed.text
        batch = formed.json()
        assert (batch["status"], batch["total_minor"]) == ("open", 6_000)
        assert await balance(ledger, ledger_id, f"liabilities/pending_batches:{batch['id']}") == 6_000
        again = await client.post(
            "/batches", json={"link_id": link["id"], "reference": "BATCH-8", "expectation_ids": [payments[0]["id"]]}
        )
        assert again.status_code == 409 and again.json()["code"] == "ALREADY_IN_BATCH"

        # Cancelled after joining: its prepare_batch and initiate_payment are reversed (seed 003).
        cancelled = await client.post(f"/expectations/{payments[1]['id']}/cancellation", json={"reason": "user"})
        assert cancelled.status_code == 200, cancelled.text
        assert await balance(ledger, ledger_id, f"liabilities/pending_batches:{batch['id']}") == 4_000
        assert await balance(ledger, ledger_id, f"{USERS}:usr_b") == 10_000 - 4_000
        assert (await client.get(f"/batches/{batch['id']}")).json()["total_minor"] == 4_000

        # The bank settles what is left in the batch.
        await import_csv(client, link["id"], csv_statement(("outbound", 4_000, "BATCH-7", "bank-batch-7")))
        settled = (await client.get(f"/batches/{batch['id']}")).json()
        assert settled["status"] == "settled"
        assert await _pending_clearing_accounts(ledger, ledger_id) == []
        assert await balance(ledger, ledger_id, "assets/operating") == 10_000 - 4_000
        assert await unreconciled(client, link["id"]) == []

        # The bank reverses the batch: opposite amounts, and every clearing account clears again with
        # the user's balance restored.
        await import_csv(client, link["id"], csv_statement(("inbound", 4_000, "BATCH-7", "bank-batch-7-back")))
        assert await unreconciled(client, link["id"]) == []
        matches = (await client.get("/matches", params={"link_id": link["id"], "limit": 100})).json()["data"]
        (reversal,) = [m for m in matches if m["strategy"] == "reversal"]
        settlement = next(m for m in matches if m["strategy"] == "one_to_many")
        assert (reversal["status"], reversal["reverses_match_id"]) == ("posted", settlement["id"])
        assert await balance(ledger, ledger_id, f"{USERS}:usr_b") == 10_000
        assert await balance(ledger, ledger_id, "assets/operating") == 10_000
        assert await _pending_clearing_accounts(ledger, ledger_id) == []

        # A second reversal line finds nothing left to reverse: it waits for an operator.
        await import_csv(client, link["id"], csv_statement(("inbound", 4_000, "BATCH-7", "bank-batch-7-twice")))
        assert [line["external_id"] for line in await unreconciled(client, link["id"])] == ["bank-batch-7-twice"]
        assert await balance(ledger, ledger_id, f"{USERS}:usr_b") == 10_000


async def test_a_sent_payment_reversed_after_settlement_is_reconciled_with_opposite_amounts(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        ledger_id = link["ledger_id"]
        await _fund(client, link["id"], "usr_r", 5_000)
        (payment,) = await _payments(client, link["id"], "usr_r", 1_200)
        # The reversal can arrive before the settlement it reverses: it waits, then pairs.
        await import_csv(
            client,
            link["id"],
            csv_statement(("inbound", 1_200, f"reversal:{payment['reference']}", "bank-back")),
        )
        assert len(await unreconciled(client, link["id"])) == 1
        await import_csv(client, link["id"], csv_statement(("outbound", 1_200, payment["reference"], "bank-out")))
        assert await unreconciled(client, link["id"]) == []
        assert await balance(ledger, ledger_id, f"{USERS}:usr_r") == 5_000
        assert await balance(ledger, ledger_id, "assets/operating") == 5_000
        assert await _pending_clearing_accounts(ledger, ledger_id) == []
        kinds = sorted(
            m["strategy"] for m in (await client.get("/matches", params={"link_id": link["id"]})).json()["data"]
        )
        assert kinds == ["one_to_one", "one_to_one", "reversal"]


async def test_a_card_networks_three_level_settlement_in_any_order(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger, kind="card_network")
        ledger_id = link["ledger_id"]
        clearing_a = {
            "clearing_id": "CLR-A",
            "transactions": [
                {"card_transaction_id": "ct-1", "account_path": f"{USERS}:usr_c1", "amount_minor": 700},
                {"card_transaction_id": "ct-2", "account_path": f"{USERS}:usr_c2", "amount_minor": 300},
            ],
        }
        # A clearing file before its settlement file and the bank's payment: it waits.
        early = await client.post(f"/links/{link['id']}/card-clearings", json=clearing_a)
        assert early.status_code == 201 and early.json()["status"] == "waiting", early.text
        settlement_file = {
            "settlement_id": "SET-2026-11-29",
            "clearings": [
                {"clearing_id": "CLR-A", "amount_minor": 1_000},
                {"clearing_id": "CLR-B", "amount_minor": 500},
            ],
        }
        imported = await client.post(f"/links/{link['id']}/card-settlements", json=settlement_file)
        assert imported.status_code == 201, imported.text
        assert imported.json()["total_minor"] == 1_500
        replay = await client.post(f"/links/{link['id']}/card-settlements", json=settlement_file)
        assert replay.status_code == 201 and replay.json()["expectation"]["id"] == imported.json()["expectation"]["id"]
        conflicting = {**settlement_file, "clearings": [{"clearing_id": "CLR-A", "amount_minor": 1_500}]}
        refused = await client.post(f"/links/{link['id']}/card-settlements", json=conflicting)
        assert refused.status_code == 409 and refused.json()["code"] == "SETTLEMENT_FILE_CONFLICT"

        # Level 1 and 2 when the bank pays; level 3 for the clearing whose file is in.
        await import_csv(client, link["id"], csv_statement(("inbound", 1_500, "SET-2026-11-29", "bank-card-1")))
        assert await unreconciled(client, link["id"]) == []
        assert await balance(ledger, ledger_id, f"{USERS}:usr_c1") == 700
        assert await balance(ledger, ledger_id, f"{USERS}:usr_c2") == 300
        assert await balance(ledger, ledger_id, "liabilities/pending_clearings:CLR-B") == 500
        view = (await client.get(f"/links/{link['id']}/card-settlements/SET-2026-11-29")).json()
        assert [(c["clearing_id"], c["status"]) for c in view["clearings"]] == [
            ("CLR-A", "posted"),
            ("CLR-B", "waiting"),
        ]

        # The last clearing file: everything clears.
        late = await client.post(
            f"/links/{link['id']}/card-clearings",
            json={
                "clearing_id": "CLR-B",
                "transactions": [
                    {"card_transaction_id": "ct-3", "account_path": f"{USERS}:usr_c1", "amount_minor": 500}
                ],
            },
        )
        assert late.status_code == 201 and late.json()["status"] == "posted", late.text
        assert await balance(ledger, ledger_id, f"{USERS}:usr_c1") == 1_200
        assert await balance(ledger, ledger_id, "assets/operating") == 1_500
        assert await _pending_clearing_accounts(ledger, ledger_id) == []
        settlement_account = await account(ledger, ledger_id, "liabilities/pending_settlements:SET-2026-11-29")
        assert settlement_account is not None and settlement_account["clearing_status"] == "cleared"

        # A clearing file that does not add up to the settlement file is a break, and posts nothing.
        await client.post(
            f"/links/{link['id']}/card-settlements",
            json={"settlement_id": "SET-2", "clearings": [{"clearing_id": "CLR-C", "amount_minor": 900}]},
        )
        await import_csv(client, link["id"], csv_statement(("inbound", 900, "SET-2", "bank-card-2")))
        short = await client.post(
            f"/links/{link['id']}/card-clearings",
            json={
                "clearing_id": "CLR-C",
                "transactions": [
                    {"card_transaction_id": "ct-9", "account_path": f"{USERS}:usr_c2", "amount_minor": 800}
                ],
            },
        )
        assert short.json()["status"] == "mismatch"
        assert await balance(ledger, ledger_id, f"{USERS}:usr_c2") == 300
        found = (await client.get("/breaks", params={"kind": "card_clearing_mismatch"})).json()["data"]
        assert any(b["detail"]["clearing_id"] == "CLR-C" and b["detail"]["clearing_file_minor"] == 800 for b in found)


async def test_a_match_the_ledger_refuses_is_held_for_an_operator_not_retried_on_every_arrival(
    running_flow: RunningFlow, ledger: httpx.AsyncClient
) -> None:
    async with running_flow() as client:
        link = await new_link(client, ledger)
        # The user has nothing: the payment's initiation is refused, so its settlement cannot post.
        refused = await client.post(
            "/expectations",
            json={
                "link_id": link["id"],
                "currency": "KES",
                "direction": "outbound",
                "amount_minor": 800,
                "reference": "BROKE-1",
                "account_path": f"{USERS}:usr_broke",
            },
        )
        assert refused.status_code == 422, refused.text
        await import_csv(client, link["id"], csv_statement(("outbound", 800, "BROKE-1", "bank-broke")))
        await import_csv(client, link["id"], csv_statement(("inbound", 10, "OTHER", "bank-other")))
        matches = (await client.get("/matches", params={"link_id": link["id"]})).json()["data"]
        assert [m["status"] for m in matches] == ["failed"]
        (line,) = [t for t in await unreconciled(client, link["id"]) if t["external_id"] == "bank-broke"]
        assert line["status"] == "unreconciled"
        found = (await client.get("/breaks", params={"kind": "posting_failed"})).json()["data"]
        assert any(b["detail"]["match_id"] == matches[0]["id"] for b in found)


async def test_a_card_networks_settlement_synced_from_its_events(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, kafka_bootstrap_servers: str
) -> None:
    """The same three levels with every file published by the network's processor and the bank's
    payment as `transfer.created`: redelivered files add nothing, and a file for an account no link
    syncs is an `unknown_account` break."""
    account_id = f"card-settlements-{uuid.uuid4().hex[:8]}"
    settlement_id = f"SET-{uuid.uuid4().hex[:8]}"
    report = CardSettlementReceived(
        settlement_id=settlement_id,
        network="visa",
        account_id=account_id,
        currency="KES",
        settled_on=datetime.now(UTC).date(),
        clearings=[SettledClearing(clearing_id=f"{settlement_id}-A", amount_minor=1_200)],
    )
    clearing_file = CardClearingFileReceived(
        clearing_id=f"{settlement_id}-A",
        network="visa",
        account_id=account_id,
        currency="KES",
        transactions=[
            ClearedCardTransaction(card_transaction_id="ct-e1", account_path=f"{USERS}:usr_e1", amount_minor=1_000),
            ClearedCardTransaction(card_transaction_id="ct-e2", account_path=f"{USERS}:usr_e2", amount_minor=200),
        ],
    )
    payment = TransferCreated(
        transfer_id=f"trf-{settlement_id}",
        processor="acme-bank",
        direction="inbound",
        amount_minor=1_200,
        currency="KES",
        account_id=account_id,
        payment_reference=settlement_id,
        counterparty=Counterparty(name="Visa settlement", account=None),
        settled_at=datetime.now(UTC),
    )
    async with running_flow() as client, started_producer(kafka_bootstrap_servers) as producer:
        link = await new_link(client, ledger, kind="card_network", external_account_id=account_id)
        ledger_id = link["ledger_id"]
        for event_id in ("evt-1", "evt-1"):  # a redelivery of each file
            await publish_as_processor(
                producer,
                "card.clearing_file.received",
                clearing_file.model_dump(mode="json"),
                key=clearing_file.clearing_id,
                event_id=f"{settlement_id}-clearing-{event_id}",
                source="visa",
            )
            await publish_as_processor(
                producer,
                "card.settlement.received",
                report.model_dump(mode="json"),
                key=settlement_id,
                event_id=f"{settlement_id}-report-{event_id}",
                source="visa",
            )
        await publish_as_processor(
            producer,
            "transfer.created",
            payment.model_dump(mode="json"),
            key=payment.transfer_id,
            event_id=f"{settlement_id}-bank",
            source="acme-bank",
        )

        async def split() -> bool:
            # The clearing is marked posted after its last card transaction's entry.
            view = (await client.get(f"/links/{link['id']}/card-settlements/{settlement_id}")).json()
            return [c["status"] for c in view.get("clearings", [])] == ["posted"]

        await wait_until(
            split, "the settlement is reconciled and its clearing split per card transaction", timeout_s=30
        )
        assert await balance(ledger, ledger_id, f"{USERS}:usr_e1") == 1_000
        assert await balance(ledger, ledger_id, f"{USERS}:usr_e2") == 200
        assert await balance(ledger, ledger_id, "assets/operating") == 1_200
        assert await _pending_clearing_accounts(ledger, ledger_id) == []
        assert await unreconciled(client, link["id"]) == []

        stray = report.model_copy(
            update={"account_id": f"nowhere-{settlement_id}", "settlement_id": f"{settlement_id}-X"}
        )
        await publish_as_processor(
            producer,
            "card.settlement.received",
            stray.model_dump(mode="json"),
            key=stray.settlement_id,
            event_id=f"{settlement_id}-stray",
            source="visa",
        )

        async def unknown_account_break() -> bool:
            found = (await client.get("/breaks", params={"kind": "unknown_account"})).json()["data"]
            return any(b["detail"]["account_id"] == stray.account_id for b in found)

        await wait_until(unknown_account_break, "a file for an account no link syncs is a break", timeout_s=30)
