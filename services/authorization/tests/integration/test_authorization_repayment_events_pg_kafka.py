"""Repayment events against real PostgreSQL, the real broker and an in-process ledger:
`card.repayment.applied` goes through the outbox (to the broker, keyed by card account) once per
repayment, whichever door brought it (HTTP or a transfer, redelivered or re-sent); a transfer quoting
the account's reference in another currency is recorded `refused` (listed, never posted to the ledger)
with `card.repayment.refused`, once; `GET /card-accounts/{id}/repayments` pages through them."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.testing import collect_pages, publish_as_processor, started_producer, wait_until
from clearway.platform.db import libpq_url

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, READER_KEY, RunningFlow
from .flows import balance, clearing_body, issue_card, open_account, request_body

pytestmark = pytest.mark.integration


def _transfer(reference: str | None, amount_minor: int, **fields: Any) -> dict[str, Any]:
    return {
        "transfer_id": fields.pop("transfer_id", None) or f"trf-{uuid.uuid4().hex[:10]}",
        "processor": "acme-bank",
        "direction": "inbound",
        "amount_minor": amount_minor,
        "currency": "USD",
        "account_id": "acct_operating_usd",
        "payment_reference": reference,
        "counterparty": {"name": "Xavier Woods", "account": None},
        "settled_at": "2026-06-10T10:00:00Z",
        **fields,
    }


async def _published(database_url: str, topic: str, card_account_id: str) -> list[dict[str, Any]]:
    """`topic`'s outbox rows for the account: key, payload, and whether the relay has sent them to the broker."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT message_key, payload::text AS payload, published_at FROM outbox "
            "WHERE topic = $1 AND payload->>'card_account_id' = $2 ORDER BY id",
            topic,
            card_account_id,
        )
    finally:
        await connection.close()
    return [
        {"key": row["message_key"], "payload": json.loads(row["payload"]), "sent": row["published_at"] is not None}
        for row in rows
    ]


async def _billed_account(
    operator: httpx.AsyncClient, processor: httpx.AsyncClient, ledger: httpx.AsyncClient
) -> dict[str, Any]:
    """An account that owes 1,000.00 billed and the 15.00 fee after a cycle close."""
    account = await open_account(operator, ledger)
    card = await issue_card(operator, account["id"])
    approved = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()
    cleared = await processor.post("/clearings", json=clearing_body(card["id"], 100_000, approved["authorization_id"]))
    assert cleared.status_code == 201, cleared.text
    closed = await operator.post("/admin/jobs/close-cycles", json={"business_date": "2026-06-01"})
    assert closed.status_code == 200, closed.text
    assert (await balance(ledger, account["balances"]["billed_balance"]))["balance"] == -100_000
    return account


async def test_a_repayment_publishes_applied_once_with_its_split(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    database_url = authorization_settings.database_url
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
        service.client(READER_KEY) as reader,
    ):
        account = await _billed_account(operator, processor, ledger)
        account_id = account["id"]
        body = {"amount_minor": 110_000, "currency": "USD", "reference": f"pay-{uuid.uuid4().hex[:8]}"}
        first = await operator.post(
            f"/card-accounts/{account_id}/repayments", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert first.status_code == 201, first.text
        repayment = first.json()
        split = (await ledger.get(f"/transactions/reference/repayment:{repayment['id']}:split")).json()
        assert repayment["ledger_transaction_id"] == split["transaction_id"]
        # The same reference again (another Idempotency-Key): the first repayment, no second event.
        again = await operator.post(
            f"/card-accounts/{account_id}/repayments", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
        )
        assert (again.status_code, again.json()["id"]) == (200, repayment["id"])

        async def sent() -> list[dict[str, Any]] | None:
            rows = await _published(database_url, "card.repayment.applied", account_id)
            return rows if rows and all(row["sent"] for row in rows) else None

        (applied,) = await wait_until(sent, "card.repayment.applied reaches the broker", timeout_s=20)
        assert applied["key"] == account_id
        event = applied["payload"]
        assert {k: event[k] for k in ("id", "reference", "amount_minor", "currency", "ledger_transaction_id")} == {
            "id": repayment["id"],
            "reference": body["reference"],
            "amount_minor": 110_000,
            "currency": "USD",
            "ledger_transaction_id": split["transaction_id"],
        }
        assert event["split"] == {
            "overdue_minor": 0,
            "billed_minor": 100_000,
            "fees_minor": 1_500,
            "transaction_interest_minor": 0,
            "excess_minor": 8_500,
            "overdue_interest_minor": 0,
        }
        assert event["occurred_at"]

        # A transfer quoting the reference (redelivered, then re-sent under a new event id): one more event.
        paying = _transfer(account["repayment_reference"], 5_000)
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            event_id = uuid.uuid4().hex
            for event_id_sent in (event_id, event_id, uuid.uuid4().hex):
                await publish_as_processor(
                    producer,
                    "transfer.created",
                    paying,
                    key=paying["transfer_id"],
                    event_id=event_id_sent,
                    source="acme",
                )

        async def two_sent() -> list[dict[str, Any]] | None:
            rows = await _published(database_url, "card.repayment.applied", account_id)
            return rows if len(rows) == 2 and all(row["sent"] for row in rows) else None

        rows = await wait_until(two_sent, "the transfer's card.repayment.applied reaches the broker", timeout_s=20)
        await asyncio.sleep(1.0)  # give a second (wrong) application time to show
        assert len(await _published(database_url, "card.repayment.applied", account_id)) == 2
        by_transfer = rows[1]["payload"]
        assert (by_transfer["reference"], by_transfer["amount_minor"], by_transfer["split"]["excess_minor"]) == (
            f"transfer:acme-bank:{paying['transfer_id']}",
            5_000,
            5_000,
        )
        listed = await collect_pages(reader, f"/card-accounts/{account_id}/repayments", params={"limit": 1})
        assert [(item["id"], item["status"]) for item in listed] == [
            (repayment["id"], "posted"),
            (by_transfer["id"], "posted"),
        ]


async def test_a_transfer_in_another_currency_is_refused_visibly_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    database_url = authorization_settings.database_url
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
        service.client(READER_KEY) as reader,
    ):
        account = await _billed_account(operator, processor, ledger)
        account_id, ids = account["id"], account["balances"]
        before = {name: (await balance(ledger, balance_id))["balance"] for name, balance_id in ids.items()}
        euros = _transfer(account["repayment_reference"], 40_000, currency="EUR")
        async with started_producer(authorization_settings.kafka_bootstrap_servers) as producer:
            event_id = uuid.uuid4().hex
            for event_id_sent in (event_id, event_id, uuid.uuid4().hex):  # redelivered, then re-sent
                await publish_as_processor(
                    producer, "transfer.created", euros, key=euros["transfer_id"], event_id=event_id_sent, source="acme"
                )

        async def refused() -> list[dict[str, Any]] | None:
            rows = await _published(database_url, "card.repayment.refused", account_id)
            return rows if rows and all(row["sent"] for row in rows) else None

        (published,) = await wait_until(refused, "card.repayment.refused reaches the broker", timeout_s=20)
        await asyncio.sleep(1.0)  # give a second refusal time to show
        assert len(await _published(database_url, "card.repayment.refused", account_id)) == 1
        assert published["key"] == account_id
        event = published["payload"]
        assert {k: event[k] for k in event if k not in ("id", "occurred_at")} == {
            "card_account_id": account_id,
            "reference": f"transfer:acme-bank:{euros['transfer_id']}",
            "amount_minor": 40_000,
            "currency": "EUR",
            "account_currency": "USD",
            "reason": "currency_mismatch",
            "transfer_id": euros["transfer_id"],
            "processor": "acme-bank",
        }
        # Listed as refused, never posted: no ledger transaction, and every balance as it was.
        page = (await reader.get(f"/card-accounts/{account_id}/repayments")).json()
        assert page["has_more"] is False
        (row,) = page["data"]
        assert (row["id"], row["status"], row["reason"], row["currency"], row["ledger_transaction_id"]) == (
            event["id"],
            "refused",
            "currency_mismatch",
            "EUR",
            None,
        )
        assert row["posted_at"] is None and set(row["allocation"].values()) == {0}
        split = await ledger.get(f"/transactions/reference/repayment:{row['id']}:split")
        assert split.status_code == 404
        assert {name: (await balance(ledger, balance_id))["balance"] for name, balance_id in ids.items()} == before
        assert not await _published(database_url, "card.repayment.applied", account_id)
        # An unknown account's repayments are a 404.
        unknown = await reader.get("/card-accounts/cac_nope/repayments")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "CARD_ACCOUNT_NOT_FOUND")
