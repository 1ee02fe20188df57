"""Authorization over real PostgreSQL and Kafka: probes, and card accounts read from its own database."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from clearway.authorization.adapters.orm import AuthorizationBase
from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.ports import find_free_port
from clearway.platform.db import create_engine

pytestmark = pytest.mark.integration

COLUMN_LEVEL_OPERATIONS = frozenset({"add_table", "remove_table", "add_column", "remove_column"})


async def test_authorization_is_live_and_ready_against_a_migrated_database(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    async with running_authorization(authorization_settings) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {"database", "kafka"} <= checks.keys() and set(checks.values()) == {"ok"}
        assert "clearway" in (await client.get("/metrics")).text


async def test_authorization_is_not_ready_when_its_database_is_unreachable(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    unreachable = authorization_settings.model_copy(
        update={"database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{find_free_port()}/clearway_authorization"}
    )
    async with running_authorization(unreachable) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("error: ")


async def test_card_accounts_are_read_from_the_migrated_table(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    engine = create_engine(authorization_settings.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO card_accounts (id, customer_id, currency, credit_limit_minor, status) "
                    "VALUES ('cac_itest_1', 'idt_itest', 'USD', 500000, 'active'), "
                    "       ('cac_itest_2', 'idt_other', 'USD', 100000, 'frozen')"
                )
            )
    finally:
        await engine.dispose()
    async with running_authorization(authorization_settings) as client:
        page = (await client.get("/card-accounts", params={"customer_id": "idt_itest"})).json()
        assert [item["id"] for item in page["data"]] == ["cac_itest_1"]
        assert page["data"][0]["credit_limit_minor"] == 500_000
        frozen = await client.get("/card-accounts/cac_itest_2")
        assert (frozen.status_code, frozen.json()["status"]) == (200, "frozen")


async def test_authorization_orm_mirrors_the_migrated_schema(authorization_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    engine = create_engine(authorization_database_url, pool_size=1)

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, _parent: kind != "table" or name in AuthorizationBase.metadata.tables
            },
        )
        return list(compare_metadata(context, AuthorizationBase.metadata))

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    # Indexes and constraints live in the migrations only; tables, columns, types and nullability must agree.
    column_level = [d for d in differences if isinstance(d, list) or d[0] in COLUMN_LEVEL_OPERATIONS]
    assert column_level == []
