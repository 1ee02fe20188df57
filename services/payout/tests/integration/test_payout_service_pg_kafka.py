"""Payout over real PostgreSQL and Kafka: probes, and withdrawal methods read from its own database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clearway.devstack.testing import (
    expect_live_and_ready,
    expect_live_but_not_ready_without_database,
    orm_schema_drift,
    with_unreachable_database,
)
from clearway.payout.adapters.orm import PayoutBase
from clearway.payout.config import PayoutSettings
from clearway.platform.db import create_engine

pytestmark = pytest.mark.integration

INSERT_METHOD = text(
    "INSERT INTO withdrawal_methods (id, user_id, method_type, provider, account_number, currency, is_primary) "
    "VALUES (:id, :user_id, 'mobile_money', 'mpesa', '254712345678', 'KES', :is_primary)"
)


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


async def test_withdrawal_methods_are_read_masked_and_one_primary_per_user(
    payout_settings: PayoutSettings, running_payout: Any
) -> None:
    engine = create_engine(payout_settings.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(INSERT_METHOD, {"id": "wdm_itest_1", "user_id": "usr_1", "is_primary": True})
            await connection.execute(INSERT_METHOD, {"id": "wdm_itest_2", "user_id": "usr_1", "is_primary": False})
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(INSERT_METHOD, {"id": "wdm_itest_3", "user_id": "usr_1", "is_primary": True})
    finally:
        await engine.dispose()
    async with running_payout(payout_settings) as client:
        page = (await client.get("/withdrawal-methods", params={"user_id": "usr_1"})).json()
        assert [(item["id"], item["is_primary"]) for item in page["data"]] == [
            ("wdm_itest_1", True),
            ("wdm_itest_2", False),
        ]
        assert page["data"][0]["account_number_masked"] == "2547*****678"
        assert (await client.get("/withdrawal-methods/wdm_itest_2")).json()["user_id"] == "usr_1"


async def test_payout_orm_mirrors_the_migrated_schema(payout_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    assert await orm_schema_drift(payout_database_url, PayoutBase.metadata) == []
