"""The payable state machine: every allowed move, every refused one answering with the current state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from clearway.funding.domain.errors import IllegalTransitionError
from clearway.funding.domain.payables import EDITABLE_STATUSES, Payable, PayableStatus, can_transition

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def payable(status: PayableStatus = PayableStatus.CREATED, **changes: object) -> Payable:
    base = Payable(
        id="pay_1",
        workspace_id="default",
        payee_id="idt_payee",
        amount_minor=12_345,
        currency="USD",
        description="May invoice",
        external_id="ext-1",
        due_date=None,
        metadata={},
        status=PayableStatus.CREATED,
        created_by="olga",
        created_at=NOW,
        updated_at=NOW,
    )
    in_funding = status in (PayableStatus.IN_FUNDING, PayableStatus.FUNDED)
    fields: dict[str, object] = {
        "status": status,
        "funding_id": "fnd_1" if in_funding else None,
        "paid_at": NOW if status is PayableStatus.PAID else None,
    }
    return replace(base, **{**fields, **changes})  # type: ignore[arg-type]


def test_the_happy_post_funding_path() -> None:
    approved = payable().approve("amir", LATER)
    assert (approved.status, approved.approved_by, approved.approved_at) == (PayableStatus.APPROVED, "amir", LATER)
    in_funding = approved.add_to_funding("fnd_9", LATER)
    assert (in_funding.status, in_funding.funding_id) == (PayableStatus.IN_FUNDING, "fnd_9")
    paid = in_funding.mark_funded(LATER).mark_paid("funding:fnd_9:payable:pay_1", LATER)
    assert paid.status is PayableStatus.PAID and paid.paid_at == LATER
    assert paid.ledger_reference == "funding:fnd_9:payable:pay_1"


def test_approval_can_be_withdrawn_and_given_again() -> None:
    unapproved = payable().approve("amir", NOW).unapprove("amir", LATER)
    assert unapproved.status is PayableStatus.UNAPPROVED and unapproved.unapproved_at == LATER
    # Who approved first is kept until the next approval replaces it.
    assert unapproved.approved_by == "amir"
    again = unapproved.approve("beth", LATER)
    assert (again.status, again.approved_by) == (PayableStatus.APPROVED, "beth")


def test_pre_funding_path_counts_attempts() -> None:
    paying = payable(PayableStatus.APPROVED).start_paying(NOW)
    assert (paying.status, paying.pay_attempts) == (PayableStatus.PAYING, 1)
    waiting = paying.record_hold("txn_1", NOW).stop_paying(LATER)
    assert (waiting.status, waiting.hold_transaction_id) == (PayableStatus.APPROVED, None)
    second = waiting.start_paying(LATER)
    assert second.pay_attempts == 2
    assert second.mark_paid("ref", LATER).status is PayableStatus.PAID


def test_a_cancelled_funding_releases_its_payables() -> None:
    released = payable(PayableStatus.IN_FUNDING).release_from_funding(LATER)
    assert (released.status, released.funding_id) == (PayableStatus.APPROVED, None)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (PayableStatus.CREATED, lambda p: p.unapprove("x", LATER)),
        (PayableStatus.CREATED, lambda p: p.add_to_funding("fnd_2", LATER)),
        (PayableStatus.APPROVED, lambda p: p.approve("x", LATER)),
        (PayableStatus.IN_FUNDING, lambda p: p.cancel("x", LATER)),
        (PayableStatus.IN_FUNDING, lambda p: p.unapprove("x", LATER)),
        (PayableStatus.FUNDED, lambda p: p.release_from_funding(LATER)),
        (PayableStatus.PAID, lambda p: p.cancel("x", LATER)),
        (PayableStatus.CANCELLED, lambda p: p.approve("x", LATER)),
        (PayableStatus.UNAPPROVED, lambda p: p.start_paying(LATER)),
        (PayableStatus.PAYING, lambda p: p.add_to_funding("fnd_2", LATER)),
    ],
)
def test_illegal_moves_answer_with_the_current_state(status: PayableStatus, action: object) -> None:
    with pytest.raises(IllegalTransitionError) as refused:
        action(payable(status))  # type: ignore[operator]
    assert refused.value.http_status == 409
    assert refused.value.extra["current_status"] == status.value


def test_only_unsigned_payables_can_be_edited() -> None:
    assert payable().edit(LATER, amount_minor=1).amount_minor == 1
    for status in set(PayableStatus) - EDITABLE_STATUSES:
        with pytest.raises(IllegalTransitionError):
            payable(status).edit(LATER, amount_minor=1)


def test_terminal_states_lead_nowhere() -> None:
    for terminal in (PayableStatus.PAID, PayableStatus.CANCELLED):
        assert not any(can_transition(terminal, target) for target in PayableStatus)


def test_invariants_hold_on_construction() -> None:
    with pytest.raises(AssertionError):
        payable(amount_minor=0)
    with pytest.raises(AssertionError):
        payable(currency="usd")
    with pytest.raises(AssertionError):
        replace(payable(), status=PayableStatus.IN_FUNDING)  # funded payables name their funding
