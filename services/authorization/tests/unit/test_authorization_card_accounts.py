from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain.card_accounts import CardAccount, CardAccountStatus
from clearway.authorization.entrypoints.dependencies import get_unit_of_work
from clearway.authorization.main import create_app
from clearway.devstack.testing import ReadOnlyUnitOfWork, app_client, keyset_page, read_only_api_keys_json

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
        return keyset_page(self.rows.values(), starting_after=starting_after, limit=limit, customer_id=customer_id)


class FakeAuthorizationUnitOfWork(ReadOnlyUnitOfWork):
    def __init__(self, accounts: Sequence[CardAccount]) -> None:
        self.card_accounts = FakeCardAccounts(accounts)


@pytest_asyncio.fixture
async def authorization_http() -> AsyncIterator[httpx.AsyncClient]:
    settings = AuthorizationSettings(
        api_keys_json=read_only_api_keys_json(READER_KEY),
        log_json=False,
        database_url="postgresql+asyncpg://u@127.0.0.1:1/unused",
    )
    app = create_app(settings)
    uow = FakeAuthorizationUnitOfWork([account(1), account(2, "idt_2"), account(3, status=CardAccountStatus.FROZEN)])
    app.dependency_overrides[get_unit_of_work] = lambda: uow
    async with app_client(app, api_key=READER_KEY, base_url="http://authorization") as client:
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
