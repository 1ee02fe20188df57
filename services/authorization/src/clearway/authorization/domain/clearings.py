"""Clearing (seed 002, steps 7-8): the network's final amount for a card transaction.

A clearing commits its authorization's hold: in full when the amounts agree, `amount_minor` of it
when lower (the rest released), in full plus the difference as its own transaction when higher. A
clearing with no open hold to commit (no authorization, one we do not know on this card, or one
that holds nothing any more) is force-posted as its own transaction and flagged `forced`. When the
recalculated markup fee differs from the one posted at authorization, the old fee is refunded and
the new one posted (two transactions); a force post posts its fee.

A clearing is recorded `pending` (unique on the processor's clearing id, with what it will do) before
the ledger is asked, and `posted` (or `rejected`: the ledger refused the difference or the force post
over the credit limit) after; once finished it never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from clearway.authorization.domain.authorizations import markup_fee_minor

CLEARING_ID_PREFIX = "ccl"


class ClearingStatus(StrEnum):
    PENDING = "pending"  # recorded; the ledger is being asked
    POSTED = "posted"  # committed (and any difference, release and fee posted)
    REJECTED = "rejected"  # the ledger refused the amount over the credit limit: nothing moved for it


@dataclass(frozen=True, slots=True)
class ClearingRequest:
    """The processor's clearing, from either door (`POST /clearings` or `card.clearing.received`)."""

    clearing_id: str  # the processor's id
    authorization_id: str | None  # the processor's authorization id; None for a force post
    card_id: str
    amount_minor: int
    currency: str
    merchant_name: str
    merchant_category_code: str
    cleared_at: datetime


@dataclass(frozen=True, slots=True)
class ClearingPlan:
    """What a clearing asks the ledger for, from the cleared amount and what the hold holds."""

    committed_minor: int  # committed from the hold
    released_minor: int  # released from the hold (lower clearing)
    difference_minor: int  # cleared minus held: positive is posted as its own transaction, negative released

    @property
    def partial(self) -> bool:
        return self.released_minor > 0

    @property
    def posted_minor(self) -> int:
        """Posted outside the hold (a higher clearing's difference, or a force post's whole amount)."""
        return max(self.difference_minor, 0)


def clearing_plan(amount_minor: int, held_minor: int) -> ClearingPlan:
    """Same: commit all; lower: commit `amount_minor` and release the rest; higher: commit all and post
    the difference. `held_minor` 0 is a force post: the whole amount is posted."""
    assert amount_minor > 0 and held_minor >= 0, (amount_minor, held_minor)
    committed = min(amount_minor, held_minor)
    return ClearingPlan(
        committed_minor=committed, released_minor=held_minor - committed, difference_minor=amount_minor - held_minor
    )


@dataclass(frozen=True, slots=True)
class FeeChange:
    refund_old: bool  # refund the fee posted at authorization
    post_minor: int  # the fee to post now (0: none)
    fee_minor: int  # the clearing's fee afterwards


def fee_change(amount_minor: int, fee_markup_bps: int, authorized_fee_minor: int | None) -> FeeChange:
    """Seed 7->8: when the recalculated fee differs from the authorization's, refund that one and post the
    new one; the same fee stays as it is. `authorized_fee_minor` None: a force post, its fee is posted."""
    recalculated = markup_fee_minor(amount_minor, fee_markup_bps)
    if authorized_fee_minor is None:
        return FeeChange(refund_old=False, post_minor=recalculated, fee_minor=recalculated)
    if recalculated == authorized_fee_minor:
        return FeeChange(refund_old=False, post_minor=0, fee_minor=authorized_fee_minor)
    return FeeChange(refund_old=authorized_fee_minor > 0, post_minor=recalculated, fee_minor=recalculated)


@dataclass(frozen=True, slots=True)
class Clearing:
    id: str
    clearing_id: str  # the processor's id, unique
    authorization_id: str | None  # the processor's authorization id, as received
    authorization_ref: str | None  # ours (`cau_...`) when a hold is committed
    card_id: str
    card_account_id: str
    amount_minor: int
    currency: str
    merchant_name: str
    merchant_category_code: str
    cleared_at: datetime
    forced: bool
    status: ClearingStatus
    # Snapshotted when recorded, so a retry or the recovery pass asks the ledger for the same things.
    hold_transaction_id: str | None
    held_minor: int
    authorized_fee_minor: int | None  # None for a force post
    overdraft_limit_minor: int
    committed_minor: int
    difference_minor: int
    fee_minor: int
    created_at: datetime
    updated_at: datetime
    posted_at: datetime | None = None

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{CLEARING_ID_PREFIX}_"), f"not a clearing id: {self.id!r}"
        assert self.amount_minor > 0, self.amount_minor
        assert self.forced == (self.authorization_ref is None), (self.forced, self.authorization_ref)
        assert self.forced == (self.hold_transaction_id is None), (self.forced, self.hold_transaction_id)
        assert self.updated_at >= self.created_at, "a clearing cannot change before it exists"

    @property
    def is_pending(self) -> bool:
        return self.status is ClearingStatus.PENDING

    @property
    def plan(self) -> ClearingPlan:
        return clearing_plan(self.amount_minor, self.held_minor)

    def finished(self, *, rejected: bool, fee_minor: int, now: datetime) -> Clearing:
        assert self.is_pending, f"{self.id} is {self.status}"
        plan = self.plan
        return replace(
            self,
            status=ClearingStatus.REJECTED if rejected else ClearingStatus.POSTED,
            committed_minor=plan.committed_minor,
            difference_minor=plan.difference_minor,
            fee_minor=fee_minor,
            posted_at=now,
            updated_at=max(now, self.created_at),
        )
