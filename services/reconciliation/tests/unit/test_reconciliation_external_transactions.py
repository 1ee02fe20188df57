from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio

from clearway.contracts.events import TransferCreated
from clearway.devstack.testing import app_client, read_only_api_keys_json
from clearway.platform.consumer import IncomingEvent
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.domain.external_transactions import MatchStatus, RecordExternalTransaction
from clearway.reconciliation.entrypoints.consumers import TRANSFERS_GROUP_ID, transfer_created_handler
from clearway.reconciliation.entrypoints.dependencies import get_unit_of_work
from clearway.reconciliation.main import create_app
from clearway.reconciliation.service.external_transactions import RecordOutcome, record_external_transaction

NOW = datetime(2024, 5, 2, 14, 5, tzinfo=UTC)
READ_ONLY_KEY = "reconciliation-unit-reader"


def command(transfer_id: str = "trf_1", **changes: Any) -> RecordExternalTransaction:
    fields: dict[str, Any] = {
        "processor": "acme-bank",
        "transfer_id": transfer_id,
        "direction": "outbound",
        "amount_minor": 5_000,
        "currency": "EUR",
        "account_id": "acct_operating_eur",
        "payment_reference": None,
        "counterparty_name": None,
        "counterparty_account": None,
        "settled_at": datetime(2024, 5, 2, 14, 3, tzinfo=UTC),
    }
    fields.update(changes)
    return RecordExternalTransaction(**fields)


async def record(uow: Any, cmd: RecordExternalTransaction, event_id: str) -> RecordOutcome:
    return await record_external_transaction(
        uow, cmd, consumer=TRANSFERS_GROUP_ID, event_id=event_id, topic="transfer.created", clock=lambda: NOW
    )


async def test_every_reported_transfer_starts_unmatched_in_either_direction(reconciliation_uow: Any) -> None:
    assert await record(reconciliation_uow, command("trf_out"), "evt_1") is RecordOutcome.RECORDED
    assert await record(reconciliation_uow, command("trf_in", direction="inbound"), "evt_2") is RecordOutcome.RECORDED
    rows = reconciliation_uow.external_transactions.rows.values()
    assert {row.status for row in rows} == {MatchStatus.UNMATCHED}
    assert all(row.id.startswith("ext_") for row in rows)


async def test_redeliveries_and_processor_retries_are_one_transaction(reconciliation_uow: Any) -> None:
    assert await record(reconciliation_uow, command(), "evt_1") is RecordOutcome.RECORDED
    assert await record(reconciliation_uow, command(), "evt_1") is RecordOutcome.DUPLICATE_EVENT
    assert await record(reconciliation_uow, command(), "evt_2") is RecordOutcome.DUPLICATE_TRANSFER
    assert len(reconciliation_uow.external_transactions.rows) == 1


async def test_a_failed_insert_rolls_back_the_inbox_row(reconciliation_uow: Any) -> None:
    async def broken_add(_transaction: Any) -> bool:
        raise RuntimeError("database went away")

    reconciliation_uow.external_transactions.add_if_new = broken_add
    with pytest.raises(RuntimeError):
        await record(reconciliation_uow, command(), "evt_1")
    assert reconciliation_uow.inbox.seen == set()


def incoming(payload: dict[str, Any], *, event_id: str) -> IncomingEvent:
    return IncomingEvent(
        id=event_id,
        type="transfer.created",
        source="urn:acme-bank",
        subject=None,
        time=None,
        correlation_id=event_id,
        causation_id=None,
        key=payload["transfer_id"],
        topic="transfer.created",
        partition=0,
        offset=0,
        payload=payload,
    )


async def test_the_consumer_reads_the_public_contract(reconciliation_uow: Any) -> None:
    handle = transfer_created_handler(lambda: reconciliation_uow)
    body = TransferCreated.model_json_schema()["examples"][0]
    await handle(incoming(body, event_id="1"))
    await handle(incoming(body, event_id="1"))
    (row,) = reconciliation_uow.external_transactions.rows.values()
    assert (row.transfer_id, row.amount_minor, row.counterparty_name) == ("trf_8c1f0a", 125_000, "Globex Finance")
    assert reconciliation_uow.inbox.seen == {(TRANSFERS_GROUP_ID, "urn:acme-bank#1")}


@pytest_asyncio.fixture
async def reconciliation_http(reconciliation_uow: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = ReconciliationSettings(
        api_keys_json=read_only_api_keys_json(READ_ONLY_KEY),
        log_json=False,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused",
    )
    app = create_app(settings)
    app.dependency_overrides[get_unit_of_work] = lambda: reconciliation_uow
    async with app_client(app, api_key=READ_ONLY_KEY, base_url="http://reconciliation") as client:
        yield client


async def test_routes_page_filter_and_404(reconciliation_http: httpx.AsyncClient, reconciliation_uow: Any) -> None:
    for number in range(3):
        await record(reconciliation_uow, command(f"trf_{number}"), f"evt_{number}")
    first = (await reconciliation_http.get("/external-transactions", params={"limit": 2})).json()
    assert first["has_more"] is True
    rest = (
        await reconciliation_http.get(
            "/external-transactions", params={"status": "unmatched", "starting_after": first["data"][-1]["id"]}
        )
    ).json()
    items = first["data"] + rest["data"]
    assert [item["transfer_id"] for item in items] == ["trf_0", "trf_1", "trf_2"]
    assert items[0]["status"] == "unmatched" and items[0]["counterparty"] == {"name": None, "account": None}
    matched = await reconciliation_http.get("/external-transactions", params={"status": "matched"})
    assert matched.json() == {"data": [], "has_more": False}
    one = await reconciliation_http.get(f"/external-transactions/{items[1]['id']}")
    assert one.json() == items[1]
    missing = await reconciliation_http.get("/external-transactions/ext_nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "EXTERNAL_TRANSACTION_NOT_FOUND")
    anonymous = await reconciliation_http.get("/external-transactions", headers={"X-API-Key": ""})
    assert anonymous.status_code == 401
