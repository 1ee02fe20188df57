"""Steps the authorization integration tests share: a cardholder, an account, a card, a request."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx

from clearway.platform.db import libpq_url


def new_processor_id(name: str = "auth") -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


async def new_identity(ledger: httpx.AsyncClient) -> str:
    created = await ledger.post("/identities", json={"first_name": "Xavier", "last_name": "Woods"})
    assert created.status_code == 201, created.text
    return str(created.json()["identity_id"])


async def open_account(
    client: httpx.AsyncClient, ledger: httpx.AsyncClient, *, limit_minor: int = 500_000, fee_bps: int = 150
) -> dict[str, Any]:
    body = {
        "identity_id": await new_identity(ledger),
        "currency": "USD",
        "credit_limit_minor": limit_minor,
        "billing_cycle_day": 1,
        "payment_due_days": 21,
        "fee_markup_bps": fee_bps,
        "pending_interest_rate_bps": 2_000,
        "overdue_interest_rate_bps": 3_000,
    }
    opened = await client.post("/card-accounts", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert opened.status_code == 201, opened.text
    document: dict[str, Any] = opened.json()
    return document


async def issue_card(client: httpx.AsyncClient, account_id: str, **controls: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"last_four": "4242", "expires": "09/39"}
    if controls:
        body["controls"] = controls
    issued = await client.post(f"/card-accounts/{account_id}/cards", json=body)
    assert issued.status_code == 201, issued.text
    document: dict[str, Any] = issued.json()
    return document


def request_body(
    card_id: str, amount_minor: int, *, channel: str = "pos", mcc: str = "5814", **fields: Any
) -> dict[str, Any]:
    return {
        "authorization_id": fields.pop("authorization_id", None) or new_processor_id(),
        "card_id": card_id,
        "amount_minor": amount_minor,
        "currency": "USD",
        "merchant_name": "ATM Main St" if channel == "atm" else "Corner Coffee",
        "merchant_category_code": "6011" if channel == "atm" else mcc,
        "channel": channel,
        "requested_at": "2026-05-02T09:15:27Z",
        **fields,
    }


async def balance(ledger: httpx.AsyncClient, balance_id: str) -> dict[str, Any]:
    answer = await ledger.get(f"/balances/{balance_id}")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


async def indicator_balance_minor(ledger: httpx.AsyncClient, indicator: str) -> int:
    answer = await ledger.get(f"/balances/indicator/{indicator}/currency/USD")
    return int(answer.json()["balance"]) if answer.status_code == 200 else 0


async def decided_events(database_url: str, processor_id: str) -> list[dict[str, Any]]:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT payload::text AS payload FROM outbox WHERE topic = 'card.authorization.decided' "
            "AND payload->>'authorization_id' = $1",
            processor_id,
        )
    finally:
        await connection.close()
    return [json.loads(row["payload"]) for row in rows]


def clearing_body(card_id: str, amount_minor: int, authorization_id: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "clearing_id": fields.pop("clearing_id", None) or new_processor_id("clr"),
        "authorization_id": authorization_id,
        "card_id": card_id,
        "amount_minor": amount_minor,
        "currency": "USD",
        "merchant_name": "Corner Coffee",
        "merchant_category_code": "5814",
        "cleared_at": "2026-05-03T02:00:00Z",
        **fields,
    }


async def outbox_events(database_url: str, topic: str, field: str, value: str) -> list[dict[str, Any]]:
    """The payloads `topic` has in the outbox whose `field` is `value`."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT payload::text AS payload FROM outbox WHERE topic = $1 AND payload->>$2 = $3", topic, field, value
        )
    finally:
        await connection.close()
    return [json.loads(row["payload"]) for row in rows]
