"""Issue 12, defect 2: link-deposit stamped a deposit with a time taken before the Kafka consumer
created it, and from then on every read of that deposit raised (`GET /deposits` answered 500
for good). A write can no longer move `updated_at` before `created_at`, the database refuses a
row that says otherwise, and a row stored that way before the fix reads back repaired.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.domain.deposits import RecordSettledTransfer, new_deposit
from clearway.platform.db import create_engine, create_session_factory
from clearway.platform.ids import new_id

pytestmark = pytest.mark.integration

CLOCK_SKEW = timedelta(microseconds=3_500)


def settled_transfer(transfer_id: str) -> RecordSettledTransfer:
    return RecordSettledTransfer(
        processor="bank-sim",
        transfer_id=transfer_id,
        direction="inbound",
        amount_minor=120_050,
        currency="USD",
        account_id="acct_platform_usd",
        payment_reference=None,
        counterparty_name=None,
        counterparty_account=None,
        settled_at=datetime.now(UTC),
    )


async def test_a_deposit_linked_with_an_earlier_clock_still_reads(funding_database_url: str) -> None:
    engine = create_engine(funding_database_url, pool_size=2)
    sessions = create_session_factory(engine)
    consumer_now = datetime.now(UTC)
    deposit = new_deposit(settled_transfer(new_id("trf")), deposit_id=new_id("dep"), now=consumer_now)
    try:
        async with SqlFundingUnitOfWork(sessions) as uow:
            assert await uow.deposits.add_if_new(deposit)
            await uow.commit()
        # The HTTP request read its clock before the consumer inserted the row.
        async with SqlFundingUnitOfWork(sessions) as uow:
            await uow.deposits.mark_linked(deposit.id, new_id("fnd"), consumer_now - CLOCK_SKEW)
            await uow.commit()
        async with SqlFundingUnitOfWork(sessions) as uow:
            linked = await uow.deposits.get(deposit.id)
        assert linked is not None and linked.linked_funding_id is not None
        assert linked.updated_at == linked.created_at == consumer_now
    finally:
        await engine.dispose()


async def test_the_database_refuses_a_row_updated_before_it_was_created(funding_database_url: str) -> None:
    engine = create_engine(funding_database_url, pool_size=1)
    sessions = create_session_factory(engine)
    deposit = new_deposit(settled_transfer(new_id("trf")), deposit_id=new_id("dep"), now=datetime.now(UTC))
    try:
        async with SqlFundingUnitOfWork(sessions) as uow:
            assert await uow.deposits.add_if_new(deposit)
            await uow.commit()
        with pytest.raises(IntegrityError, match="ck_deposits_updated_not_before_created"):
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE deposits SET updated_at = created_at - interval '1 ms' WHERE id = :id"),
                    {"id": deposit.id},
                )
        # A row stored that way before the constraint existed reads back repaired, not as a 500.
        async with engine.begin() as connection:
            await connection.execute(
                text("ALTER TABLE deposits DROP CONSTRAINT ck_deposits_updated_not_before_created")
            )
            await connection.execute(
                text("UPDATE deposits SET updated_at = created_at - interval '1 ms' WHERE id = :id"), {"id": deposit.id}
            )
        try:
            async with SqlFundingUnitOfWork(sessions) as uow:
                read_back = await uow.deposits.get(deposit.id)
            assert read_back is not None and read_back.updated_at == read_back.created_at
        finally:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE deposits SET updated_at = created_at WHERE updated_at < created_at")
                )
                await connection.execute(
                    text(
                        "ALTER TABLE deposits ADD CONSTRAINT ck_deposits_updated_not_before_created"
                        " CHECK (updated_at >= created_at)"
                    )
                )
    finally:
        await engine.dispose()
