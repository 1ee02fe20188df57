"""Payables: what a workspace owes a payee, and the states a payable moves through.

    created -> approved <-> unapproved
    approved -> in_funding -> funded -> paid        (post-funding: an invoice pays a batch)
    approved -> paying -> paid                      (pre-funding: paid from the workspace balance)
    created | approved | unapproved -> cancelled

`in_funding -> approved` happens when the funding is cancelled or expires, and
`paying -> approved` when the workspace balance turns out not to cover the payable.

A paid payable's money is in the payee's wallet; payout then sends it out and reports what became
of that withdrawal. Funding records it as the payable's payout outcome, beside its own `paid`
status, which does not change:

    (none) -> paid_out -> reversed
    (none) -> failed
    (none) -> reversed        (the reversal arrived before the success it undoes)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from clearway.funding.domain.errors import IllegalTransitionError

PAYABLE_ID_PREFIX = "pay"
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class PayableStatus(StrEnum):
    CREATED = "created"
    APPROVED = "approved"
    UNAPPROVED = "unapproved"
    IN_FUNDING = "in_funding"
    FUNDED = "funded"
    PAYING = "paying"
    PAID = "paid"
    CANCELLED = "cancelled"


_ALLOWED: dict[PayableStatus, frozenset[PayableStatus]] = {
    PayableStatus.CREATED: frozenset({PayableStatus.APPROVED, PayableStatus.CANCELLED}),
    PayableStatus.APPROVED: frozenset(
        {PayableStatus.UNAPPROVED, PayableStatus.IN_FUNDING, PayableStatus.PAYING, PayableStatus.CANCELLED}
    ),
    PayableStatus.UNAPPROVED: frozenset({PayableStatus.APPROVED, PayableStatus.CANCELLED}),
    PayableStatus.IN_FUNDING: frozenset({PayableStatus.FUNDED, PayableStatus.APPROVED}),
    PayableStatus.FUNDED: frozenset({PayableStatus.PAID}),
    PayableStatus.PAYING: frozenset({PayableStatus.PAID, PayableStatus.APPROVED}),
    PayableStatus.PAID: frozenset(),
    PayableStatus.CANCELLED: frozenset(),
}
# Terms may change only while nobody has signed them off.
EDITABLE_STATUSES = frozenset({PayableStatus.CREATED, PayableStatus.UNAPPROVED})


class PayoutStatus(StrEnum):
    """What payout reports of the withdrawal paying a paid payable out (not the payable's status)."""

    PAID_OUT = "paid_out"
    FAILED = "failed"
    REVERSED = "reversed"


# The outcomes that may follow the one recorded for the same withdrawal. Payout's withdrawal ends
# succeeded or failed, and only a succeeded one is reversed; its three topics are not ordered with
# one another, so a reversal may arrive before the success it undoes, and the success then is old.
_PAYOUT_FOLLOWS: dict[PayoutStatus | None, frozenset[PayoutStatus]] = {
    None: frozenset(PayoutStatus),
    PayoutStatus.PAID_OUT: frozenset({PayoutStatus.REVERSED}),
    PayoutStatus.FAILED: frozenset(),
    PayoutStatus.REVERSED: frozenset(),
}


class PayoutDecision(StrEnum):
    """Whether a payout outcome changes the payable, and if not, why not."""

    APPLIED = "applied"
    ALREADY_RECORDED = "already_recorded"  # the outcome recorded, reported again
    OUT_OF_ORDER = "out_of_order"  # older than, or contradicting, the outcome recorded
    OTHER_WITHDRAWAL = "other_withdrawal"  # another withdrawal than the one recorded
    NOT_PAID = "not_paid"  # the payable is not paid, so nothing of it was paid out


@dataclass(frozen=True, slots=True)
class RecordPayoutOutcome:
    """Command: payout reports what became of a withdrawal. Only one paying out a payable names it."""

    payable_id: str | None
    withdrawal_id: str
    status: PayoutStatus
    occurred_at: datetime
    receipt: str | None = None
    failure_code: str | None = None

    def __post_init__(self) -> None:
        assert self.withdrawal_id, "an outcome names its withdrawal"
        assert self.payable_id is None or self.payable_id, "a payable id is never empty"
        assert self.occurred_at.tzinfo is not None, "occurred_at must be timezone-aware"
        assert self.failure_code is None or self.status is PayoutStatus.FAILED, "only a failure has a failure code"
        assert self.receipt is None or self.status is PayoutStatus.PAID_OUT, "only a success carries a receipt"

    @property
    def pays_out_payable(self) -> bool:
        """A withdrawal the user asked for pays out no payable: funding has nothing to record."""
        return self.payable_id is not None


@dataclass(frozen=True, slots=True)
class PayableFilters:
    """What `GET /payables` may filter on; None means any."""

    status: PayableStatus | None = None
    payee_id: str | None = None
    currency: str | None = None
    external_id: str | None = None
    funding_id: str | None = None


def can_transition(current: PayableStatus, target: PayableStatus) -> bool:
    return target in _ALLOWED[current]


@dataclass(frozen=True, slots=True)
class Payable:
    id: str
    workspace_id: str
    payee_id: str
    amount_minor: int
    currency: str
    description: str
    external_id: str | None
    due_date: date | None
    metadata: dict[str, Any]
    status: PayableStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    unapproved_by: str | None = None
    unapproved_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    funding_id: str | None = None
    pay_attempts: int = 0
    hold_transaction_id: str | None = None
    ledger_reference: str | None = None
    paid_at: datetime | None = None
    # The payout outcome: None until payout reports on the withdrawal paying it out.
    payout_status: PayoutStatus | None = None
    payout_withdrawal_id: str | None = None
    payout_receipt: str | None = None
    payout_failure_code: str | None = None
    payout_updated_at: datetime | None = None

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{PAYABLE_ID_PREFIX}_"), f"not a payable id: {self.id!r}"
        assert self.amount_minor > 0, "a payable is a positive amount of minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "a payable cannot change before it exists"
        assert self.pay_attempts >= 0
        assert (self.status is PayableStatus.PAID) == (self.paid_at is not None), "paid iff paid_at is set"
        in_funding_states = {PayableStatus.IN_FUNDING, PayableStatus.FUNDED}
        assert self.status not in in_funding_states or self.funding_id is not None, "a funded payable names its funding"
        recorded = self.payout_status is not None
        assert recorded == (self.payout_withdrawal_id is not None) == (self.payout_updated_at is not None), (
            "a payout outcome names its withdrawal and when it happened"
        )
        assert not recorded or self.status is PayableStatus.PAID, "only a paid payable is paid out"
        assert self.payout_failure_code is None or self.payout_status is PayoutStatus.FAILED
        assert self.payout_receipt is None or self.payout_status in (PayoutStatus.PAID_OUT, PayoutStatus.REVERSED)

    def _moved(self, target: PayableStatus, action: str, now: datetime, **changes: Any) -> Payable:
        if not can_transition(self.status, target):
            raise IllegalTransitionError("payable", self.id, action, self.status.value)
        return replace(self, status=target, updated_at=max(now, self.updated_at), **changes)

    def approve(self, approver: str, now: datetime) -> Payable:
        assert approver, "an approval names its approver"
        return self._moved(PayableStatus.APPROVED, "approve", now, approved_by=approver, approved_at=now)

    def unapprove(self, by: str, now: datetime) -> Payable:
        return self._moved(PayableStatus.UNAPPROVED, "unapprove", now, unapproved_by=by, unapproved_at=now)

    def cancel(self, by: str, now: datetime) -> Payable:
        return self._moved(PayableStatus.CANCELLED, "cancel", now, cancelled_by=by, cancelled_at=now)

    def edit(self, now: datetime, **changes: Any) -> Payable:
        if self.status not in EDITABLE_STATUSES:
            raise IllegalTransitionError("payable", self.id, "update", self.status.value)
        allowed = {"payee_id", "amount_minor", "currency", "description", "due_date", "metadata"}
        assert set(changes) <= allowed, f"not editable: {sorted(set(changes) - allowed)}"
        return replace(self, updated_at=max(now, self.updated_at), **changes)

    def add_to_funding(self, funding_id: str, now: datetime) -> Payable:
        if self.funding_id is not None:
            raise IllegalTransitionError("payable", self.id, "fund", self.status.value)
        return self._moved(PayableStatus.IN_FUNDING, "fund", now, funding_id=funding_id)

    def release_from_funding(self, now: datetime) -> Payable:
        """Its funding was cancelled or expired: approved again, free for another funding."""
        return self._moved(PayableStatus.APPROVED, "release", now, funding_id=None)

    def mark_funded(self, now: datetime) -> Payable:
        return self._moved(PayableStatus.FUNDED, "mark funded", now)

    def mark_paid(self, ledger_reference: str, now: datetime) -> Payable:
        assert ledger_reference, "a paid payable names the ledger transaction that paid it"
        return self._moved(PayableStatus.PAID, "mark paid", now, ledger_reference=ledger_reference, paid_at=now)

    def start_paying(self, now: datetime) -> Payable:
        """Pre-funding: about to hold the amount on the workspace balance (attempt n+1)."""
        if self.funding_id is not None:
            raise IllegalTransitionError("payable", self.id, "pay from balance", self.status.value)
        return self._moved(
            PayableStatus.PAYING, "pay from balance", now, pay_attempts=self.pay_attempts + 1, hold_transaction_id=None
        )

    def record_hold(self, hold_transaction_id: str, now: datetime) -> Payable:
        assert self.status is PayableStatus.PAYING, "only a paying payable has a hold"
        return replace(self, hold_transaction_id=hold_transaction_id, updated_at=max(now, self.updated_at))

    def stop_paying(self, now: datetime) -> Payable:
        """The balance did not cover it: approved again, waiting for funds."""
        return self._moved(PayableStatus.APPROVED, "stop paying", now, hold_transaction_id=None)

    def payout_decision(self, outcome: RecordPayoutOutcome) -> PayoutDecision:
        """Order-safe and idempotent: a redelivered, late or contradicting outcome never moves the
        recorded one backwards, and a payable follows the one withdrawal it first heard of."""
        assert outcome.payable_id == self.id, f"an outcome for {outcome.payable_id} offered to {self.id}"
        if self.status is not PayableStatus.PAID:
            return PayoutDecision.NOT_PAID
        if self.payout_withdrawal_id is not None and self.payout_withdrawal_id != outcome.withdrawal_id:
            return PayoutDecision.OTHER_WITHDRAWAL
        if outcome.status is self.payout_status:
            return PayoutDecision.ALREADY_RECORDED
        if outcome.status not in _PAYOUT_FOLLOWS[self.payout_status]:
            return PayoutDecision.OUT_OF_ORDER
        return PayoutDecision.APPLIED

    def record_payout(self, outcome: RecordPayoutOutcome, now: datetime) -> tuple[PayoutDecision, Payable]:
        """The decision, and the payable with the outcome recorded (unchanged unless APPLIED)."""
        decision = self.payout_decision(outcome)
        if decision is not PayoutDecision.APPLIED:
            return decision, self
        recorded = replace(
            self,
            payout_status=outcome.status,
            payout_withdrawal_id=outcome.withdrawal_id,
            # A reversal carries no receipt: the receipt of the success it undoes stays.
            payout_receipt=outcome.receipt or self.payout_receipt,
            payout_failure_code=outcome.failure_code,
            # Payout's clock: kept from running backwards should a reversal be stamped before its success.
            payout_updated_at=max(outcome.occurred_at, self.payout_updated_at or outcome.occurred_at),
            updated_at=max(now, self.updated_at),
        )
        return decision, recorded

    @property
    def is_waiting_for_funds(self) -> bool:
        return self.status is PayableStatus.APPROVED and self.funding_id is None
