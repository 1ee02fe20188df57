from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.testing import ReadOnlyUnitOfWork, app_client, keyset_page, read_only_api_keys_json
from clearway.payout.config import PayoutSettings
from clearway.payout.domain.withdrawal_methods import MethodType, WithdrawalMethod, mask_account_number
from clearway.payout.entrypoints.dependencies import get_unit_of_work
from clearway.payout.main import create_app

CREATED = datetime(2024, 5, 1, tzinfo=UTC)
READER_KEY = "payout-unit-reader"


def method(number: int, user_id: str = "usr_1", *, is_primary: bool = False) -> WithdrawalMethod:
    return WithdrawalMethod(
        id=f"wdm_{number:04d}",
        user_id=user_id,
        method_type=MethodType.MOBILE_MONEY,
        provider="mpesa",
        account_name="Wanjiku M.",
        account_number="254712345678",
        currency="KES",
        is_primary=is_primary,
        verified=False,
        created_at=CREATED,
        updated_at=CREATED,
    )


class FakeWithdrawalMethods:
    def __init__(self, methods: Sequence[WithdrawalMethod]) -> None:
        self.rows = {item.id: item for item in methods}

    async def get(self, method_id: str) -> WithdrawalMethod | None:
        return self.rows.get(method_id)

    async def list(self, *, user_id: str | None, starting_after: str | None, limit: int) -> Sequence[WithdrawalMethod]:
        return keyset_page(self.rows.values(), starting_after=starting_after, limit=limit, user_id=user_id)


class FakePayoutUnitOfWork(ReadOnlyUnitOfWork):
    def __init__(self, methods: Sequence[WithdrawalMethod]) -> None:
        self.withdrawal_methods = FakeWithdrawalMethods(methods)


@pytest_asyncio.fixture
async def payout_http() -> AsyncIterator[httpx.AsyncClient]:
    settings = PayoutSettings(
        api_keys_json=read_only_api_keys_json(READER_KEY),
        log_json=False,
        database_url="postgresql+asyncpg://u@127.0.0.1:1/unused",
    )
    app = create_app(settings)
    uow = FakePayoutUnitOfWork([method(1, is_primary=True), method(2), method(3, "usr_2")])
    app.dependency_overrides[get_unit_of_work] = lambda: uow
    async with app_client(app, api_key=READER_KEY, base_url="http://payout") as client:
        yield client


@pytest.mark.parametrize(
    ("account_number", "masked"),
    [("254712345678", "2547*****678"), ("1234567", "*******"), ("12345678", "1234*678"), ("", "")],
)
def test_account_numbers_are_masked_for_display(account_number: str, masked: str) -> None:
    assert mask_account_number(account_number) == masked


async def test_a_users_methods_never_show_the_full_number(payout_http: httpx.AsyncClient) -> None:
    first = (await payout_http.get("/withdrawal-methods", params={"user_id": "usr_1", "limit": 1})).json()
    assert first["has_more"] is True
    (primary,) = first["data"]
    assert (primary["id"], primary["is_primary"], primary["status"]) == ("wdm_0001", True, "unverified")
    assert primary["account_number_masked"] == "2547*****678"
    assert "254712345678" not in json.dumps(first)
    rest = await payout_http.get("/withdrawal-methods", params={"user_id": "usr_1", "starting_after": "wdm_0001"})
    assert [item["id"] for item in rest.json()["data"]] == ["wdm_0002"]


async def test_one_method_and_unknown_ones(payout_http: httpx.AsyncClient) -> None:
    assert (await payout_http.get("/withdrawal-methods/wdm_0003")).json()["user_id"] == "usr_2"
    missing = await payout_http.get("/withdrawal-methods/wdm_9999")
    assert (missing.status_code, missing.json()["code"]) == (404, "WITHDRAWAL_METHOD_NOT_FOUND")
