"""The posting engine: what a transfer, a hold, a commit, a void and a refund do to balances.

Pure functions over `BalanceState`s the caller has locked. Every operation yields entry
lines; balances change only by applying those lines (`apply_lines`), so "a balance equals
the sum of its entries" holds by construction, and each operation's lines balance
(debits equal credits) in the applied bucket and in the inflight bucket separately.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from clearway.ledger.domain.balances import BalanceState, can_spend
from clearway.ledger.domain.distribution import Leg


class Status(StrEnum):
    QUEUED = "QUEUED"
    APPLIED = "APPLIED"
    INFLIGHT = "INFLIGHT"
    VOID = "VOID"
    REJECTED = "REJECTED"
    SCHEDULED = "SCHEDULED"


class Bucket(StrEnum):
    APPLIED = "applied"
    INFLIGHT = "inflight"


class EntryLine(NamedTuple):
    """One journal line. A named tuple, not a frozen dataclass: a transfer makes two and a bulk of
    1,000 two thousand, and a frozen dataclass's `__init__` (one `object.__setattr__` per field)
    was the posting step's largest single cost."""

    transaction_id: str
    balance_id: str
    currency: str
    bucket: Bucket
    debit_minor: int
    credit_minor: int


@dataclass(frozen=True)
class Posting:
    """A movement with every balance resolved and every leg in minor units."""

    transaction_id: str
    currency: str
    debits: tuple[Leg, ...]
    credits: tuple[Leg, ...]
    inflight: bool = False
    allow_overdraft: bool = False
    overdraft_limit_minor: int | None = None

    @property
    def amount_minor(self) -> int:
        return sum(leg.amount_minor for leg in self.debits)

    def __post_init__(self) -> None:
        assert self.debits and self.credits, "a posting needs both sides"
        assert all(leg.amount_minor > 0 for leg in (*self.debits, *self.credits))
        assert sum(leg.amount_minor for leg in self.debits) == sum(leg.amount_minor for leg in self.credits)


@dataclass(frozen=True)
class Outcome:
    status: Status
    lines: tuple[EntryLine, ...] = ()
    rejection_reason: str | None = None


def _debits_by_balance(legs: tuple[Leg, ...]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.identifier] += leg.amount_minor
    return totals


def apply_posting(posting: Posting, balances: dict[str, BalanceState]) -> Outcome:
    """Apply (or hold) a posting, or reject it leaving every balance untouched."""
    for leg in (*posting.debits, *posting.credits):
        currency = balances[leg.identifier].currency
        if currency != posting.currency:
            return Outcome(
                Status.REJECTED,
                rejection_reason=f"balance {leg.identifier} holds {currency}, not {posting.currency}",
            )
    for balance_id, amount_minor in _debits_by_balance(posting.debits).items():
        source = balances[balance_id]
        if not can_spend(
            source.available,
            amount_minor,
            allow_overdraft=posting.allow_overdraft,
            overdraft_limit_minor=posting.overdraft_limit_minor,
        ):
            reason = "insufficient funds" if not posting.allow_overdraft else "overdraft limit exceeded"
            return Outcome(
                Status.REJECTED,
                rejection_reason=f"{reason} in balance {balance_id}: available {source.available}, "
                f"requested {amount_minor}",
            )
    bucket = Bucket.INFLIGHT if posting.inflight else Bucket.APPLIED
    lines = _lines(posting.transaction_id, posting.currency, bucket, posting.debits, posting.credits, sign=1)
    apply_lines(lines, balances)
    return Outcome(Status.INFLIGHT if posting.inflight else Status.APPLIED, lines)


def _lines(
    transaction_id: str,
    currency: str,
    bucket: Bucket,
    debits: tuple[Leg, ...],
    credits: tuple[Leg, ...],
    *,
    sign: int,
) -> tuple[EntryLine, ...]:
    assert sign in (1, -1)
    return tuple(
        [EntryLine(transaction_id, leg.identifier, currency, bucket, sign * leg.amount_minor, 0) for leg in debits]
        + [EntryLine(transaction_id, leg.identifier, currency, bucket, 0, sign * leg.amount_minor) for leg in credits]
    )


def apply_lines(lines: tuple[EntryLine, ...], balances: dict[str, BalanceState]) -> None:
    for line in lines:
        balance = balances[line.balance_id]
        if line.bucket is Bucket.APPLIED:
            balance.debit_balance += line.debit_minor
            balance.credit_balance += line.credit_minor
        else:
            balance.inflight_debit_balance += line.debit_minor
            balance.inflight_credit_balance += line.credit_minor
        balance.touched = True
        balance.assert_consistent()


@dataclass
class Hold:
    """An INFLIGHT transaction's open amount. Committed in parts or voided, never forgotten."""

    transaction_id: str
    currency: str
    debits: tuple[Leg, ...]
    credits: tuple[Leg, ...]
    amount_minor: int
    committed_minor: int = 0
    voided_minor: int = 0

    @property
    def remaining_minor(self) -> int:
        return self.amount_minor - self.committed_minor - self.voided_minor

    @property
    def is_simple(self) -> bool:
        return len(self.debits) == 1 and len(self.credits) == 1

    def legs_for(self, part_minor: int) -> tuple[tuple[Leg, ...], tuple[Leg, ...]]:
        """Debit and credit legs for `part_minor` of the hold; only whole parts for splits, so no
        rounding is ever needed."""
        return _scaled_legs(self.debits, part_minor, self.amount_minor), _scaled_legs(
            self.credits, part_minor, self.amount_minor
        )


def _scaled_legs(legs: tuple[Leg, ...], part_minor: int, whole_minor: int) -> tuple[Leg, ...]:
    if part_minor == whole_minor:
        return legs
    assert len(legs) == 1, "partial amounts are only taken from single-leg holds"
    return (Leg(legs[0].identifier, part_minor),)


def commit_hold(
    hold: Hold, amount_minor: int, child_transaction_id: str, balances: dict[str, BalanceState]
) -> tuple[EntryLine, ...]:
    """Move `amount_minor` of the hold from inflight to applied on both sides."""
    assert 0 < amount_minor <= hold.remaining_minor
    assert hold.is_simple or amount_minor == hold.remaining_minor == hold.amount_minor
    debits, credits = hold.legs_for(amount_minor)
    release = _lines(child_transaction_id, hold.currency, Bucket.INFLIGHT, debits, credits, sign=-1)
    apply_ = _lines(child_transaction_id, hold.currency, Bucket.APPLIED, debits, credits, sign=1)
    lines = release + apply_
    apply_lines(lines, balances)
    hold.committed_minor += amount_minor
    return lines


def void_hold(
    hold: Hold, child_transaction_id: str, balances: dict[str, BalanceState], amount_minor: int | None = None
) -> tuple[EntryLine, ...]:
    """Release `amount_minor` of what is still held (all of it when None)."""
    remaining = hold.remaining_minor if amount_minor is None else amount_minor
    assert 0 < remaining <= hold.remaining_minor
    assert hold.is_simple or remaining == hold.remaining_minor
    debits, credits = hold.legs_for(remaining)
    lines = _lines(child_transaction_id, hold.currency, Bucket.INFLIGHT, debits, credits, sign=-1)
    apply_lines(lines, balances)
    hold.voided_minor += remaining
    return lines


def reversal_of(posting: Posting, transaction_id: str) -> Posting:
    """The refund of an applied posting: the same legs, sides swapped."""
    return Posting(
        transaction_id=transaction_id,
        currency=posting.currency,
        debits=posting.credits,
        credits=posting.debits,
        inflight=False,
        allow_overdraft=posting.allow_overdraft,
        overdraft_limit_minor=posting.overdraft_limit_minor,
    )


def lines_balance(lines: tuple[EntryLine, ...]) -> bool:
    """Per currency and bucket, debits equal credits."""
    totals: dict[tuple[str, Bucket], int] = defaultdict(int)
    for line in lines:
        totals[(line.currency, line.bucket)] += line.debit_minor - line.credit_minor
    return all(total == 0 for total in totals.values())
