from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from clearway.contracts.events import TransferCreated
from clearway.funding.domain.deposits import DepositStatus, RecordSettledTransfer, new_deposit
from clearway.funding.entrypoints.consumers import TRANSFERS_GROUP_ID, transfer_created_handler
from clearway.funding.service.deposits import RecordOutcome, list_deposits, record_settled_transfer
from clearway.platform.consumer import IncomingEvent

NOW = datetime(2024, 5, 2, 14, 5, tzinfo=UTC)


def command(transfer_id: str = "trf_1", **changes: Any) -> RecordSettledTransfer:
    fields: dict[str, Any] = {
        "processor": "acme-bank",
        "transfer_id": transfer_id,
        "direction": "inbound",
        "amount_minor": 125_000,
        "currency": "USD",
        "account_id": "acct_operating_usd",
        "payment_reference": "INV-2024-0042",
        "counterparty_name": "Globex Finance",
        "counterparty_account": "021000021-99887766",
        "settled_at": datetime(2024, 5, 2, 14, 3, tzinfo=UTC),
    }
    fields.update(changes)
    return RecordSettledTransfer(**fields)


async def record(uow: Any, cmd: RecordSettledTransfer, event_id: str) -> RecordOutcome:
    return await record_settled_transfer(
        uow, cmd, consumer="funding.transfers", event_id=event_id, topic="transfer.created", clock=lambda: NOW
    )


async def test_a_settled_inbound_transfer_becomes_an_unlinked_deposit(funding_uow: Any) -> None:
    assert await record(funding_uow, command(), "evt_1") is RecordOutcome.RECORDED
    (deposit,) = funding_uow.deposits.rows.values()
    assert deposit.id.startswith("dep_")
    assert (deposit.transfer_id, deposit.amount_minor, deposit.currency) == ("trf_1", 125_000, "USD")
    assert deposit.status is DepositStatus.UNLINKED
    assert deposit.created_at == deposit.updated_at == NOW


async def test_the_same_event_delivered_twice_has_one_effect(funding_uow: Any) -> None:
    assert await record(funding_uow, command(), "evt_1") is RecordOutcome.RECORDED
    assert await record(funding_uow, command(), "evt_1") is RecordOutcome.DUPLICATE_EVENT
    assert len(funding_uow.deposits.rows) == 1


async def test_a_processor_retry_under_a_new_event_id_is_one_deposit(funding_uow: Any) -> None:
    assert await record(funding_uow, command(), "evt_1") is RecordOutcome.RECORDED
    assert await record(funding_uow, command(), "evt_2") is RecordOutcome.DUPLICATE_TRANSFER
    assert len(funding_uow.deposits.rows) == 1
    assert len(funding_uow.inbox.seen) == 2


async def test_same_transfer_id_from_another_processor_is_another_deposit(funding_uow: Any) -> None:
    await record(funding_uow, command(), "evt_1")
    assert await record(funding_uow, command(processor="other-bank"), "evt_2") is RecordOutcome.RECORDED
    assert len(funding_uow.deposits.rows) == 2


async def test_outbound_transfers_are_acknowledged_but_fund_nothing(funding_uow: Any) -> None:
    assert await record(funding_uow, command(direction="outbound"), "evt_1") is RecordOutcome.NOT_A_DEPOSIT
    assert funding_uow.deposits.rows == {}
    assert await record(funding_uow, command(direction="outbound"), "evt_1") is RecordOutcome.DUPLICATE_EVENT


async def test_a_failure_after_the_inbox_row_leaves_nothing_behind(funding_uow: Any) -> None:
    async def broken_add(_deposit: Any) -> bool:
        raise RuntimeError("database went away")

    funding_uow.deposits.add_if_new = broken_add
    with pytest.raises(RuntimeError):
        await record(funding_uow, command(), "evt_1")
    # The inbox row rolled back with the failed insert, so the redelivery is handled afresh.
    assert funding_uow.inbox.seen == set()


async def test_listing_pages_by_id_and_filters_on_linked(funding_uow: Any) -> None:
    for number in range(5):
        await record(funding_uow, command(f"trf_{number}"), f"evt_{number}")
    first = await list_deposits(funding_uow, linked=False, starting_after=None, limit=3, owner_workspace=None)
    rest = await list_deposits(funding_uow, linked=False, starting_after=first[-1].id, limit=3, owner_workspace=None)
    assert [d.transfer_id for d in [*first, *rest]] == sorted(d.transfer_id for d in funding_uow.deposits.rows.values())
    assert await list_deposits(funding_uow, linked=True, starting_after=None, limit=3, owner_workspace=None) == []


def test_a_deposit_must_be_inbound_and_in_minor_units() -> None:
    with pytest.raises(AssertionError):
        new_deposit(command(direction="outbound"), deposit_id="dep_x", now=NOW)
    with pytest.raises(AssertionError):
        command(currency="usd")
    with pytest.raises(AssertionError):
        command(amount_minor=-1)


def incoming(payload: dict[str, Any], *, event_id: str, source: str = "urn:acme-bank") -> IncomingEvent:
    return IncomingEvent(
        id=event_id,
        type="transfer.created",
        source=source,
        subject=None,
        time=None,
        correlation_id=event_id,
        causation_id=None,
        key=payload.get("transfer_id"),
        topic="transfer.created",
        partition=0,
        offset=0,
        payload=payload,
    )


async def test_the_consumer_validates_the_public_contract_and_records_once(funding_uow: Any) -> None:
    handle = transfer_created_handler(lambda: funding_uow)
    body = TransferCreated.model_json_schema()["examples"][0]
    await handle(incoming(body, event_id="1"))
    await handle(incoming(body, event_id="1"))
    # Event ids are unique per source only: another processor's `1` is another event.
    await handle(incoming({**body, "processor": "globex-pay"}, event_id="1", source="urn:globex-pay"))
    assert sorted(d.processor for d in funding_uow.deposits.rows.values()) == ["acme-bank", "globex-pay"]
    assert {key for key in funding_uow.inbox.seen} == {
        (TRANSFERS_GROUP_ID, "urn:acme-bank#1"),
        (TRANSFERS_GROUP_ID, "urn:globex-pay#1"),
    }


async def test_the_consumer_refuses_a_body_outside_the_contract(funding_uow: Any) -> None:
    handle = transfer_created_handler(lambda: funding_uow)
    body = {**TransferCreated.model_json_schema()["examples"][0], "amount_minor": "1250.00"}
    with pytest.raises(ValueError):
        await handle(incoming(body, event_id="1"))
    assert funding_uow.deposits.rows == {}


def test_inbox_ids_fall_back_to_the_event_id_without_a_source() -> None:
    assert incoming({}, event_id="transfer.created-0-7", source="").inbox_id == "transfer.created-0-7"
