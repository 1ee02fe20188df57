"""Authorization over real PostgreSQL and Kafka: probes, and card accounts read from its own database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from clearway.authorization.adapters.orm import AuthorizationBase
from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.testing import (
    expect_live_and_ready,
    expect_live_but_not_ready_without_database,
    orm_schema_drift,
    with_unreachable_database,
)
from clearway.platform.db import create_engine

pytestmark = pytest.mark.integration


async def test_authorization_is_live_and_ready_against_a_migrated_database(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    async with running_authorization(authorization_settings) as client:
        await expect_live_and_ready(client)
        assert "clearway" in (await client.get("/metrics")).text


async def test_authorization_is_not_ready_when_its_database_is_unreachable(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    async with running_authorization(with_unreachable_database(authorization_settings)) as client:
        await expect_live_but_not_ready_without_database(client)


async def test_card_accounts_are_read_from_the_migrated_table(
    authorization_settings: AuthorizationSettings, running_authorization: Any
) -> None:
    engine = create_engine(authorization_settings.database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO card_accounts (id, identity_id, currency, credit_limit_minor, status) "
                    "VALUES ('cac_itest_1', 'idt_itest', 'USD', 500000, 'opening'), "
                    "       ('cac_itest_2', 'idt_other', 'USD', 100000, 'opening')"
                )
            )
    finally:
        await engine.dispose()
    async with running_authorization(authorization_settings) as client:
        page = (await client.get("/card-accounts", params={"identity_id": "idt_itest"})).json()
        assert [item["id"] for item in page["data"]] == ["cac_itest_1"]
        assert page["data"][0]["credit_limit_minor"] == 500_000
        legacy = (await client.get("/card-accounts", params={"customer_id": "idt_itest"})).json()
        assert [item["id"] for item in legacy["data"]] == ["cac_itest_1"]
        opening = await client.get("/card-accounts/cac_itest_2")
        assert (opening.status_code, opening.json()["status"]) == (200, "opening")
        assert opening.json()["balances"] is None and opening.json()["available_credit_minor"] is None
        missing = await client.get("/card-accounts/cac_nope")
        assert (missing.status_code, missing.json()["code"]) == (404, "CARD_ACCOUNT_NOT_FOUND")


async def test_authorization_orm_mirrors_the_migrated_schema(authorization_database_url: str) -> None:
    """Migrations own the schema and orm.py mirrors it: a column added to one but not the other fails here."""
    assert await orm_schema_drift(authorization_database_url, AuthorizationBase.metadata) == []
