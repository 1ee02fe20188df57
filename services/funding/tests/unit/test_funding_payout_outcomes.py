"""Funding learns a paid payable's payout outcome from payout's events (issue 8, section 5).

Order-safe and idempotent: a redelivered, late or contradicting event never moves the recorded
outcome backwards, an outcome for another withdrawal than the recorded one is ignored, and the
payable's own status stays `paid`. Against the in-memory unit of work of conftest.py.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clearway.funding.domain.payables import Payable, PayableStatus, PayoutStatus, RecordPayoutOutcome
from clearway.funding.entrypoints.consumers import (
    PAYOUT_FAILED,
    PAYOUT_REVERSED,
    PAYOUT_SUCCEEDED,
    PAYOUTS_GROUP_ID,
    payout_failed_command,
    payout_outcome_handler,
    payout_reversed_command,
    payout_succeeded_command,
    subscriptions,
)
from clearway.funding.entrypoints.schemas_payables import PayableOut
from clearway.funding.service.payables import PayoutRecording, record_payout_outcome
from clearway.platform.consumer import IncomingEvent

from .test_funding_payable_states import payable

CREATED = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
PAID_OUT_AT = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
REVERSED_AT = datetime(2024, 5, 3, 11, 0, tzinfo=UTC)
NOW = datetime(2024, 5, 3, 12, 0, tzinfo=UTC)
PAYOUT_SOURCE = "clearway.payout"


def paid(payable_id: str = "pay_1") -> Payable:
    return payable(PayableStatus.PAID, id=payable_id, created_at=CREATED, updated_at=CREATED, paid_at=CREATED)


def outcome(status: PayoutStatus, withdrawal_id: str = "wd_1", **changes: Any) -> RecordPayoutOutcome:
    fields: dict[str, Any] = {
        "payable_id": "pay_1",
        "withdrawal_id": withdrawal_id,
        "status": status,
        "occurred_at": {PayoutStatus.REVERSED: REVERSED_AT}.get(status, PAID_OUT_AT),
        "receipt": "QK71ABC" if status is PayoutStatus.PAID_OUT else None,
        "failure_code": "ACCOUNT_CLOSED" if status is PayoutStatus.FAILED else None,
    }
    return RecordPayoutOutcome(**{**fields, **changes})


class Recorder:
    """Records outcomes in `uow` as the consumer does, one new event id per call unless given."""

    def __init__(self, uow: Any, clock: datetime = NOW) -> None:
        self.uow = uow
        self.clock = clock
        self.events = 0

    async def __call__(self, command: RecordPayoutOutcome, *, event_id: str | None = None) -> PayoutRecording:
        self.events += 1
        return await record_payout_outcome(
            self.uow,
            command,
            consumer=PAYOUTS_GROUP_ID,
            event_id=event_id or f"{PAYOUT_SOURCE}#evt_{self.events}",
            topic="payout.outcome",
            clock=lambda: self.clock,
        )


@pytest.fixture
def record(funding_uow: Any) -> Recorder:
    funding_uow.payables.rows["pay_1"] = paid()
    return Recorder(funding_uow)


def stored(uow: Any, payable_id: str = "pay_1") -> Payable:
    found: Payable = uow.payables.rows[payable_id]
    return found


async def test_a_success_records_paid_out_beside_the_paid_status(record: Recorder, funding_uow: Any) -> None:
    assert stored(funding_uow).payout_status is None
    assert await record(outcome(PayoutStatus.PAID_OUT)) is PayoutRecording.APPLIED
    after = stored(funding_uow)
    assert after.status is PayableStatus.PAID and after.paid_at == CREATED
    assert (after.payout_status, after.payout_withdrawal_id, after.payout_receipt, after.payout_failure_code) == (
        PayoutStatus.PAID_OUT,
        "wd_1",
        "QK71ABC",
        None,
    )
    # Payout's time for the outcome, funding's clock for the row.
    assert (after.payout_updated_at, after.updated_at) == (PAID_OUT_AT, NOW)


async def test_a_redelivered_event_has_no_second_effect(record: Recorder, funding_uow: Any) -> None:
    await record(outcome(PayoutStatus.PAID_OUT), event_id="clearway.payout#evt_a")
    before = stored(funding_uow)
    record.clock = NOW + timedelta(hours=1)
    assert await record(outcome(PayoutStatus.PAID_OUT), event_id="clearway.payout#evt_a") is (
        PayoutRecording.DUPLICATE_EVENT
    )
    # The same outcome under a new event id (payout's relay publishing twice) changes nothing either.
    assert await record(outcome(PayoutStatus.PAID_OUT, receipt="OTHER")) is PayoutRecording.ALREADY_RECORDED
    assert stored(funding_uow) == before
    assert len(funding_uow.inbox.seen) == 2


async def test_a_failure_after_the_success_of_the_same_withdrawal_is_ignored_and_logged(
    record: Recorder, funding_uow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await record(outcome(PayoutStatus.PAID_OUT))
    before = stored(funding_uow)
    with caplog.at_level(logging.WARNING, logger="clearway.funding.service.payables"):
        assert await record(outcome(PayoutStatus.FAILED)) is PayoutRecording.OUT_OF_ORDER
    assert stored(funding_uow) == before
    (warning,) = [entry for entry in caplog.records if entry.levelno == logging.WARNING]
    assert "wd_1" in warning.getMessage() and "out_of_order" in warning.getMessage()
    assert warning.recorded_payout_status is PayoutStatus.PAID_OUT  # type: ignore[attr-defined]


async def test_a_reversal_after_the_success_applies_and_keeps_the_receipt(record: Recorder, funding_uow: Any) -> None:
    await record(outcome(PayoutStatus.PAID_OUT))
    assert await record(outcome(PayoutStatus.REVERSED)) is PayoutRecording.APPLIED
    after = stored(funding_uow)
    assert (after.status, after.payout_status, after.payout_receipt) == (
        PayableStatus.PAID,
        PayoutStatus.REVERSED,
        "QK71ABC",
    )
    assert after.payout_updated_at == REVERSED_AT
    # Nothing moves a reversed payout again.
    for late in (outcome(PayoutStatus.PAID_OUT), outcome(PayoutStatus.FAILED)):
        assert await record(late) is PayoutRecording.OUT_OF_ORDER
    assert await record(outcome(PayoutStatus.REVERSED)) is PayoutRecording.ALREADY_RECORDED
    assert stored(funding_uow) == after


async def test_a_reversal_that_overtakes_its_success_wins(record: Recorder, funding_uow: Any) -> None:
    """The three topics are not ordered with one another: the success may arrive last."""
    assert await record(outcome(PayoutStatus.REVERSED)) is PayoutRecording.APPLIED
    assert await record(outcome(PayoutStatus.PAID_OUT)) is PayoutRecording.OUT_OF_ORDER
    after = stored(funding_uow)
    assert (after.payout_status, after.payout_updated_at) == (PayoutStatus.REVERSED, REVERSED_AT)


async def test_a_failure_is_final_for_its_withdrawal(record: Recorder, funding_uow: Any) -> None:
    assert await record(outcome(PayoutStatus.FAILED)) is PayoutRecording.APPLIED
    failed = stored(funding_uow)
    assert (failed.payout_status, failed.payout_failure_code, failed.payout_receipt) == (
        PayoutStatus.FAILED,
        "ACCOUNT_CLOSED",
        None,
    )
    for contradiction in (outcome(PayoutStatus.PAID_OUT), outcome(PayoutStatus.REVERSED)):
        assert await record(contradiction) is PayoutRecording.OUT_OF_ORDER
    assert stored(funding_uow) == failed


async def test_an_outcome_for_another_withdrawal_is_ignored_once_one_is_recorded(
    record: Recorder, funding_uow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await record(outcome(PayoutStatus.FAILED, "wd_1"))
    before = stored(funding_uow)
    with caplog.at_level(logging.WARNING, logger="clearway.funding.service.payables"):
        assert await record(outcome(PayoutStatus.PAID_OUT, "wd_2")) is PayoutRecording.OTHER_WITHDRAWAL
    assert stored(funding_uow) == before
    assert any("wd_2" in entry.getMessage() and "other_withdrawal" in entry.getMessage() for entry in caplog.records)


async def test_unknown_and_unpaid_payables_are_acknowledged_and_logged(
    record: Recorder, funding_uow: Any, caplog: pytest.LogCaptureFixture
) -> None:
    funding_uow.payables.rows["pay_2"] = payable(PayableStatus.APPROVED, id="pay_2")
    with caplog.at_level(logging.WARNING, logger="clearway.funding.service.payables"):
        assert await record(outcome(PayoutStatus.PAID_OUT, payable_id="pay_404")) is PayoutRecording.UNKNOWN_PAYABLE
        assert await record(outcome(PayoutStatus.PAID_OUT, payable_id="pay_2")) is PayoutRecording.NOT_PAID
    assert stored(funding_uow, "pay_2").payout_status is None
    assert len([entry for entry in caplog.records if entry.levelno == logging.WARNING]) == 2
    # Recorded in the inbox all the same: a redelivery does not ask again.
    assert await record(outcome(PayoutStatus.PAID_OUT, payable_id="pay_404"), event_id=f"{PAYOUT_SOURCE}#evt_1") is (
        PayoutRecording.DUPLICATE_EVENT
    )


async def test_a_withdrawal_the_user_asked_for_is_only_recorded_in_the_inbox(
    record: Recorder, funding_uow: Any
) -> None:
    before = dict(funding_uow.payables.rows)
    assert await record(outcome(PayoutStatus.PAID_OUT, payable_id=None)) is PayoutRecording.NOT_A_PAYABLE
    assert funding_uow.payables.rows == before
    assert funding_uow.inbox.seen == {(PAYOUTS_GROUP_ID, f"{PAYOUT_SOURCE}#evt_1")}


async def test_updated_at_never_goes_before_created_at(funding_uow: Any) -> None:
    funding_uow.payables.rows["pay_1"] = paid()
    skewed = Recorder(funding_uow, clock=CREATED - timedelta(seconds=3))  # another process, another clock
    assert await skewed(outcome(PayoutStatus.PAID_OUT)) is PayoutRecording.APPLIED
    assert stored(funding_uow).updated_at == CREATED


async def test_a_failure_while_recording_leaves_nothing_behind(record: Recorder, funding_uow: Any) -> None:
    async def broken_save(_payable: Payable) -> None:
        raise RuntimeError("database went away")

    funding_uow.payables.save_payout_outcome = broken_save
    with pytest.raises(RuntimeError):
        await record(outcome(PayoutStatus.PAID_OUT))
    # The inbox row rolled back with the failed write, so the redelivery is handled afresh.
    assert funding_uow.inbox.seen == set()
    assert stored(funding_uow).payout_status is None


def test_a_payout_outcome_belongs_to_a_paid_payable_and_names_its_withdrawal() -> None:
    with pytest.raises(AssertionError):
        replace(paid(), payout_status=PayoutStatus.PAID_OUT)  # no withdrawal, no time
    with pytest.raises(AssertionError):
        replace(
            payable(PayableStatus.APPROVED),
            payout_status=PayoutStatus.PAID_OUT,
            payout_withdrawal_id="wd_1",
            payout_updated_at=PAID_OUT_AT,
        )
    with pytest.raises(AssertionError):
        outcome(PayoutStatus.PAID_OUT, failure_code="X")


def test_the_payable_json_shows_the_payout_or_null() -> None:
    assert PayableOut.from_domain(paid()).model_dump(mode="json")["payout"] is None
    _decision, recorded = paid().record_payout(outcome(PayoutStatus.PAID_OUT), NOW)
    body = PayableOut.from_domain(recorded).model_dump(mode="json")
    assert body["status"] == "paid"
    assert body["payout"] == {
        "status": "paid_out",
        "withdrawal_id": "wd_1",
        "receipt": "QK71ABC",
        "failure_code": None,
        "updated_at": "2024-05-02T09:30:00Z",
    }


# --- The consumer: payout's contract in, one use case called. -----------------------------------


def payout_body(**changes: Any) -> dict[str, Any]:
    """A payout event body as payout's relay publishes it (origin `payable`)."""
    body: dict[str, Any] = {
        "withdrawal_id": "wd_1",
        "payment_intent_id": "pi_1",
        "user_id": "idt_payee",
        "amount_minor": 12_345,
        "currency": "USD",
        "status": "succeeded",
        "method_type": "mobile_money",
        "provider": "sandbox",
        "account_number_masked": "******5678",
        "origin": "payable",
        "payable_id": "pay_1",
        "occurred_at": "2024-05-02T09:30:00Z",
    }
    return {**body, **changes}


def incoming(topic: str, payload: dict[str, Any], *, event_id: str) -> IncomingEvent:
    return IncomingEvent(
        id=event_id,
        type=topic,
        source=PAYOUT_SOURCE,
        subject=payload.get("withdrawal_id"),
        time=None,
        correlation_id=event_id,
        causation_id=None,
        key=payload.get("withdrawal_id"),
        topic=topic,
        partition=0,
        offset=0,
        payload=payload,
    )


def test_the_commands_read_payouts_contract() -> None:
    succeeded = payout_succeeded_command(payout_body(receipt="QK71ABC"))
    assert (succeeded.status, succeeded.receipt, succeeded.occurred_at) == (
        PayoutStatus.PAID_OUT,
        "QK71ABC",
        PAID_OUT_AT,
    )
    failed = payout_failed_command(payout_body(status="failed", failure_code="ACCOUNT_CLOSED", reason="closed"))
    assert (failed.status, failed.failure_code, failed.receipt) == (PayoutStatus.FAILED, "ACCOUNT_CLOSED", None)
    reversed_ = payout_reversed_command(payout_body(status="reversed", reason="provider reversal"))
    assert (reversed_.status, reversed_.payable_id, reversed_.withdrawal_id) == (PayoutStatus.REVERSED, "pay_1", "wd_1")
    user_withdrawal = payout_succeeded_command(payout_body(origin="user", payable_id=None))
    assert not user_withdrawal.pays_out_payable
    assert not payout_succeeded_command(payout_body(payable_id="", receipt="")).pays_out_payable
    with pytest.raises(ValueError):
        payout_failed_command(payout_body(status="failed"))  # a failure without its code is outside the contract


async def test_the_consumers_record_each_event_once_under_the_payouts_group(funding_uow: Any) -> None:
    funding_uow.payables.rows["pay_1"] = paid()
    handlers = {
        topic: handler
        for topic, group_id, handler in subscriptions(lambda: funding_uow)
        if group_id == PAYOUTS_GROUP_ID
    }
    assert set(handlers) == {PAYOUT_SUCCEEDED, PAYOUT_FAILED, PAYOUT_REVERSED}

    await handlers[PAYOUT_SUCCEEDED](incoming(PAYOUT_SUCCEEDED, payout_body(receipt="QK71ABC"), event_id="evt_1"))
    await handlers[PAYOUT_SUCCEEDED](incoming(PAYOUT_SUCCEEDED, payout_body(receipt="QK71ABC"), event_id="evt_1"))
    await handlers[PAYOUT_FAILED](
        incoming(PAYOUT_FAILED, payout_body(status="failed", failure_code="LATE"), event_id="evt_2")
    )
    assert stored(funding_uow).payout_status is PayoutStatus.PAID_OUT
    await handlers[PAYOUT_REVERSED](
        incoming(PAYOUT_REVERSED, payout_body(status="reversed", occurred_at="2024-05-03T11:00:00Z"), event_id="evt_3")
    )
    after = stored(funding_uow)
    assert (after.payout_status, after.payout_receipt, after.payout_updated_at) == (
        PayoutStatus.REVERSED,
        "QK71ABC",
        REVERSED_AT,
    )
    assert funding_uow.inbox.seen == {(PAYOUTS_GROUP_ID, f"{PAYOUT_SOURCE}#evt_{n}") for n in (1, 2, 3)}


async def test_the_consumer_refuses_a_body_outside_the_contract(funding_uow: Any) -> None:
    funding_uow.payables.rows["pay_1"] = paid()
    handle = payout_outcome_handler(lambda: funding_uow, payout_succeeded_command)
    with pytest.raises(ValueError):
        await handle(incoming(PAYOUT_SUCCEEDED, payout_body(amount_minor="123.45"), event_id="evt_1"))
    assert funding_uow.inbox.seen == set() and stored(funding_uow).payout_status is None
