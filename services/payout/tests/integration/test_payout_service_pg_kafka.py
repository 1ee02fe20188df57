"""Payout over real PostgreSQL and Kafka: probes, schema, and withdrawal methods (seed 001's
registration flow: primary rules, masking, validation, owner scoping)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from clearway.devstack.testing import (
    expect_live_and_ready,
    expect_live_but_not_ready_without_database,
    orm_schema_drift,
    with_unreachable_database,
)
from clearway.payout.adapters.orm import PayoutBase
from clearway.payout.config import PayoutSettings

from .conftest import READER_KEY, RunningPayout
from .flows import mobile_method

pytestmark = pytest.mark.integration
METHODS = "/api/v1/payments/withdrawal-methods"


async def test_payout_is_live_and_ready_against_a_migrated_database(
    payout_settings: PayoutSettings, running_payout: Any
) -> None:
    async with running_payout(payout_settings) as client:
        await expect_live_and_ready(client)


async def test_payout_is_not_ready_when_its_database_is_unreachable(
    payout_settings: PayoutSettings, running_payout: Any
) -> None:
    async with running_payout(with_unreachable_database(payout_settings)) as client:
        await expect_live_but_not_ready_without_database(client)


async def test_payout_orm_mirrors_the_migrated_schema(payout_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    assert await orm_schema_drift(payout_database_url, PayoutBase.metadata) == []


async def test_the_first_method_becomes_primary_and_a_later_primary_replaces_it(running_flow: RunningPayout) -> None:
    async with running_flow() as payout, payout.client(user="usr_primary_rules") as user:
        first = await mobile_method(user, "0712 345 678")
        second = await mobile_method(user, "+254 722 000 111")
        assert (first["is_primary"], second["is_primary"]) == (True, False)
        assert first["phone_number_masked"] == "+254******678" and "712345678" not in str(first)
        assert first["user_id"] == "usr_primary_rules" and first["verified"] is False

        third = await mobile_method(user, "0733 000 222", is_primary=True)
        listed = (await user.get(METHODS)).json()["data"]
        assert {m["id"]: m["is_primary"] for m in listed} == {
            first["id"]: False,
            second["id"]: False,
            third["id"]: True,
        }


async def test_concurrent_primary_creates_leave_exactly_one_primary(running_flow: RunningPayout) -> None:
    async with running_flow() as payout, payout.client(user="usr_concurrent_primary") as user:
        phones = [f"07{index:02d} 000 {index:03d}" for index in range(10, 20)]
        created = await asyncio.gather(*(mobile_method(user, phone, is_primary=True) for phone in phones))
        assert len(created) == 10
        listed = (await user.get(METHODS, params={"limit": 100})).json()["data"]
        assert sum(method["is_primary"] for method in listed) == 1


async def test_a_bank_account_is_validated_and_masked(running_flow: RunningPayout) -> None:
    async with running_flow() as payout, payout.client(user="usr_bank") as user:
        created = await user.post(
            METHODS,
            json={"type": "bank_account", "iban": "de89 3704 0044 0532 0130 00", "account_holder_name": "Ada Obi"},
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["currency"] == "EUR" and body["provider"] == "sepa"
        assert "0532013000" not in created.text and body["account_number_masked"].endswith("3000")

        bad = await user.post(METHODS, json={"type": "bank_account", "iban": "DE00 1234", "account_holder_name": "X"})
        assert bad.status_code == 422 and bad.json()["code"] == "INVALID_IBAN", bad.text
        phone = await user.post(METHODS, json={"type": "mobile_money", "phone_number": "12345"})
        assert phone.status_code == 422 and phone.headers["content-type"].startswith("application/problem+json")


async def test_another_users_method_is_not_found_and_reads_need_a_principal(running_flow: RunningPayout) -> None:
    async with (
        running_flow() as payout,
        payout.client(user="usr_owner") as owner,
        payout.client(user="usr_stranger") as stranger,
        payout.client(api_key=READER_KEY) as reader,
    ):
        method = await mobile_method(owner)
        assert (await stranger.get(f"{METHODS}/{method['id']}")).status_code == 404
        assert (await stranger.delete(f"{METHODS}/{method['id']}")).status_code == 404
        assert (await stranger.get(METHODS)).json()["data"] == []
        assert (await reader.get(f"{METHODS}/{method['id']}")).status_code == 200
        assert (
            await reader.post(METHODS, json={"type": "mobile_money", "phone_number": "0712345678"})
        ).status_code == 403
        mismatch = await owner.post(
            METHODS, json={"type": "mobile_money", "phone_number": "0712345678", "identity_id": "usr_stranger"}
        )
        assert mismatch.status_code == 422 and mismatch.json()["code"] == "IDENTITY_MISMATCH"

        deleted = await owner.delete(f"{METHODS}/{method['id']}")
        assert deleted.status_code == 200 and deleted.json()["active"] is False
        assert (await owner.get(METHODS)).json()["data"] == []
