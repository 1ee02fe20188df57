"""Payout over real PostgreSQL and Kafka: probes, and withdrawal methods read from its own database."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clearway.devstack.ports import find_free_port
from clearway.payout.adapters.orm import PayoutBase
from clearway.payout.config import PayoutSettings
from clearway.platform.db import create_engine

pytestmark = pytest.mark.integration

COLUMN_LEVEL_OPERATIONS = frozenset({"add_table", "remove_table", "add_column", "remove_column"})

INSERT_METHOD = text(
    "INSERT INTO withdrawal_methods (id, user_id, method_type, provider, account_number, currency, is_primary) "
    "VALUES (:id, :user_id, 'mobile_money', 'mpesa', '254712345678', 'KES', :is_primary)"
)


async def test_payout_is_live_and_ready_against_a_migrated_database(
    payout_settings: PayoutSettings, running_payout: Any
) -> None:
    async with running_payout(payout_settings) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {"database", "kafka"} <= checks.keys() and set(checks.values()) == {"ok"}


async def test_payout_is_not_ready_when_its_database_is_unreachable(
    payout_settings: PayoutSettings, running_payout: Any
) -> None:
    unreachable = payout_settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/clearway_payout"}
    )
    async with running_payout(unreachable) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error: ")


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
    engine = create_engine(payout_database_url, pool_size=1)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, kind, _parent: kind != "table" or name in PayoutBase.metadata.tables},
        )
        return list(compare_metadata(context, PayoutBase.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    # Indexes and constraints live in the migrations only; tables, columns, types and nullability must agree.
    column_level = [d for d in differences if isinstance(d, list) or d[0] in COLUMN_LEVEL_OPERATIONS]
    assert column_level == []
