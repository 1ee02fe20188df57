from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx
import pytest
import pytest_asyncio

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain.card_accounts import CardAccount, CardAccountStatus
from clearway.authorization.entrypoints.dependencies import get_unit_of_work
from clearway.authorization.main import create_app
from clearway.platform.auth import hash_api_key

CREATED = datetime(2024, 5, 1, tzinfo=UTC)
READER_KEY = "authorization-unit-reader"


def account(
    number: int, customer_id: str = "idt_1", status: CardAccountStatus = CardAccountStatus.ACTIVE
) -> CardAccount:
    return CardAccount(
        id=f"cac_{number:04d}",
        customer_id=customer_id,
        currency="USD",
        credit_limit_minor=500_000,
        status=status,
        ledger_id=None,
        created_at=CREATED,
        updated_at=CREATED,
    )


class FakeCardAccounts:
    def __init__(self, accounts: Sequence[CardAccount]) -> None:
        self.rows = {item.id: item for item in accounts}

    async def get(self, card_account_id: str) -> CardAccount | None:
        return self.rows.get(card_account_id)

    async def list(self, *, customer_id: str | None, starting_after: str | None, limit: int) -> Sequence[CardAccount]:
        found = sorted(self.rows.values(), key=lambda item: item.id)
        found = [item for item in found if starting_after is None or item.id > starting_after]
        found = [item for item in found if customer_id is None or item.customer_id == customer_id]
        return found[:limit]


class FakeAuthorizationUnitOfWork:
    def __init__(self, accounts: Sequence[CardAccount]) -> None:
        self.card_accounts = FakeCardAccounts(accounts)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        return None


@pytest_asyncio.fixture
async def authorization_http() -> AsyncIterator[httpx.AsyncClient]:
    api_keys = [{"name": "reader", "key_sha256": hash_api_key(READER_KEY), "roles": ["read_only"]}]
    settings = AuthorizationSettings(
        api_keys_json=json.dumps(api_keys), log_json=False, database_url="postgresql+asyncpg://u@127.0.0.1:1/unused"
    )
    app = create_app(settings)
    uow = FakeAuthorizationUnitOfWork([account(1), account(2, "idt_2"), account(3, status=CardAccountStatus.FROZEN)])
    app.dependency_overrides[get_unit_of_work] = lambda: uow
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://authorization", headers={"X-API-Key": READER_KEY}
    ) as client:
        yield client


async def test_card_accounts_are_listed_per_customer(authorization_http: httpx.AsyncClient) -> None:
    page = (await authorization_http.get("/card-accounts", params={"customer_id": "idt_1"})).json()
    assert [item["id"] for item in page["data"]] == ["cac_0001", "cac_0003"]
    assert page["has_more"] is False
    assert page["data"][1]["status"] == "frozen"
    assert page["data"][0]["credit_limit_minor"] == 500_000 and page["data"][0]["currency"] == "USD"


async def test_one_card_account_and_unknown_ones(authorization_http: httpx.AsyncClient) -> None:
    assert (await authorization_http.get("/card-accounts/cac_0002")).json()["customer_id"] == "idt_2"
    missing = await authorization_http.get("/card-accounts/cac_9999")
    assert (missing.status_code, missing.json()["code"]) == (404, "CARD_ACCOUNT_NOT_FOUND")
    assert (await authorization_http.get("/card-accounts", headers={"X-API-Key": "wrong"})).status_code == 401


def test_only_active_accounts_may_authorize() -> None:
    assert account(1).can_authorize
    assert not account(1, status=CardAccountStatus.FROZEN).can_authorize
    with pytest.raises(AssertionError):
        CardAccount(
            id="cac_1",
            customer_id="idt_1",
            currency="usd",
            credit_limit_minor=1,
            status=CardAccountStatus.ACTIVE,
            ledger_id=None,
            created_at=CREATED,
            updated_at=CREATED,
        )
