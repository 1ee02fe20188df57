"""Routes over the in-memory unit of work: shapes, pagination, auth, 404 (no database, no broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio

from clearway.devstack.testing import read_only_api_keys_json
from clearway.funding.config import FundingSettings
from clearway.funding.domain.deposits import RecordSettledTransfer
from clearway.funding.entrypoints.dependencies import get_unit_of_work
from clearway.funding.main import create_app
from clearway.funding.service.deposits import record_settled_transfer

ADMIN_KEY = "funding-unit-admin"
READ_ONLY_KEY = "funding-unit-reader"
KEYLESS_KEY = "funding-unit-nobody"


@pytest_asyncio.fixture
async def funding_http(funding_uow: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = FundingSettings(
        dev_api_key=ADMIN_KEY,
        api_keys_json=read_only_api_keys_json(READ_ONLY_KEY),
        log_json=False,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused",
    )
    app = create_app(settings)
    app.dependency_overrides[get_unit_of_work] = lambda: funding_uow
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://funding") as client:
        yield client


async def seed(uow: Any, count: int) -> None:
    for number in range(count):
        transfer = RecordSettledTransfer(
            processor="acme-bank",
            transfer_id=f"trf_{number}",
            direction="inbound",
            amount_minor=1_000 + number,
            currency="KES",
            account_id="acct_mpesa_paybill",
            payment_reference=None,
            counterparty_name=None,
            counterparty_account="2547XXXXXX12",
            settled_at=datetime(2024, 5, 2, tzinfo=UTC),
        )
        await record_settled_transfer(uow, transfer, consumer="c", event_id=f"e{number}", topic="transfer.created")


async def test_unlinked_deposits_are_listed_with_cursor_pagination(
    funding_http: httpx.AsyncClient, funding_uow: Any
) -> None:
    await seed(funding_uow, 3)
    headers = {"X-API-Key": READ_ONLY_KEY}
    first = await funding_http.get("/deposits", params={"linked": "false", "limit": 2}, headers=headers)
    assert first.status_code == 200
    assert first.json()["has_more"] is True
    cursor = first.json()["data"][-1]["id"]
    second = await funding_http.get("/deposits", params={"limit": 2, "starting_after": cursor}, headers=headers)
    assert second.json()["has_more"] is False
    items = first.json()["data"] + second.json()["data"]
    assert [item["transfer_id"] for item in items] == ["trf_0", "trf_1", "trf_2"]
    assert items[0]["status"] == "unlinked"
    assert items[0]["counterparty"] == {"name": None, "account": "2547XXXXXX12"}
    assert items[0]["amount_minor"] == 1_000 and items[0]["currency"] == "KES"


async def test_one_deposit_by_id_and_unknown_ids_are_404(funding_http: httpx.AsyncClient, funding_uow: Any) -> None:
    await seed(funding_uow, 1)
    (deposit_id,) = funding_uow.deposits.rows
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    found = await funding_http.get(f"/deposits/{deposit_id}", headers=headers)
    assert (found.status_code, found.json()["id"]) == (200, deposit_id)
    missing = await funding_http.get("/deposits/dep_nope", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "DEPOSIT_NOT_FOUND"


async def test_deposits_need_a_known_api_key(funding_http: httpx.AsyncClient) -> None:
    assert (await funding_http.get("/deposits")).status_code == 401
    assert (await funding_http.get("/deposits", headers={"X-API-Key": KEYLESS_KEY})).status_code == 401


async def test_page_limits_are_bounded(funding_http: httpx.AsyncClient) -> None:
    response = await funding_http.get("/deposits", params={"limit": 1000}, headers={"X-API-Key": ADMIN_KEY})
    assert response.status_code in (400, 422)
