"""Payables: what a workspace owes a payee, and the states a payable moves through.

    created -> approved <-> unapproved
    approved -> in_funding -> funded -> paid        (post-funding: an invoice pays a batch)
    approved -> paying -> paid                      (pre-funding: paid from the workspace balance)
    created | approved | unapproved -> cancelled

`in_funding -> approved` happens when the funding is cancelled or expires, and
`paying -> approved` when the workspace balance turns out not to cover the payable.
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

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{PAYABLE_ID_PREFIX}_"), f"not a payable id: {self.id!r}"
        assert self.amount_minor > 0, "a payable is a positive amount of minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "a payable cannot change before it exists"
        assert self.pay_attempts >= 0
        assert (self.status is PayableStatus.PAID) == (self.paid_at is not None), "paid iff paid_at is set"
        in_funding_states = {PayableStatus.IN_FUNDING, PayableStatus.FUNDED}
        assert self.status not in in_funding_states or self.funding_id is not None, "a funded payable names its funding"

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

    @property
    def is_waiting_for_funds(self) -> bool:
        return self.status is PayableStatus.APPROVED and self.funding_id is None
