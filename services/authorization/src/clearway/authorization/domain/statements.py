"""A closed cycle's statement (seed 002 step 9) as a cardholder reads it: what was owed before, what
was paid, the cycle's transactions and fees, the interest, and what is due by when.

The figures are the ones the cycle close recorded (read from the ledger at close); this module only
derives what a statement prints from them: what was carried from earlier statements and the
minimum payment. Pure: amounts in minor units, amounts owed positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clearway.authorization.domain.card_accounts import CardAccountTerms

BPS_PER_UNIT = 10_000
# The minimum payment: everything already past a statement (carried), the fees and the interest,
# plus this share of the newly billed principal (rounded up, never more than the total due).
MINIMUM_PRINCIPAL_SHARE_BPS = 100


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One cleared card transaction of the cycle."""

    id: str  # our clearing id (`ccl_...`)
    clearing_id: str  # the processor's
    card_id: str
    merchant_name: str
    merchant_category_code: str
    amount_minor: int
    fee_minor: int
    forced: bool
    cleared_at: datetime


@dataclass(frozen=True, slots=True)
class Statement:
    card_account_id: str
    number: int
    currency: str
    period_start: date
    period_end: date
    due_date: date
    status: str
    principal_minor: int  # card primary's outstanding at close
    billed_minor: int  # principal billed by this statement
    fees_minor: int
    interest_minor: int
    total_due_minor: int
    lines: tuple[StatementLine, ...]
    closed_at: datetime

    @property
    def carried_minor(self) -> int:
        """Principal billed by earlier statements and still owed at close (billed or overdue)."""
        return max(self.total_due_minor - self.billed_minor - self.fees_minor - self.interest_minor, 0)

    @property
    def minimum_due_minor(self) -> int:
        return minimum_due_minor(
            self.total_due_minor, self.billed_minor, self.carried_minor + self.fees_minor + self.interest_minor
        )


def minimum_due_minor(total_due_minor: int, billed_minor: int, due_in_full_minor: int) -> int:
    """What must be paid by the due date to stay current: `due_in_full_minor` (carried principal,
    fees, interest) plus `MINIMUM_PRINCIPAL_SHARE_BPS` of the new principal, rounded up, capped at the total."""
    assert total_due_minor >= 0 and billed_minor >= 0 and due_in_full_minor >= 0
    share = -(-billed_minor * MINIMUM_PRINCIPAL_SHARE_BPS // BPS_PER_UNIT)
    return min(total_due_minor, due_in_full_minor + share)


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def statement_from_row(row: Mapping[str, Any]) -> Statement:
    """A stored statement (the repository's row; `transactions` as the close recorded them)."""
    lines = tuple(
        StatementLine(
            id=str(line["id"]),
            clearing_id=str(line["clearing_id"]),
            card_id=str(line["card_id"]),
            merchant_name=str(line["merchant_name"]),
            merchant_category_code=str(line["merchant_category_code"]),
            amount_minor=int(line["amount_minor"]),
            fee_minor=int(line["fee_minor"]),
            forced=bool(line["forced"]),
            cleared_at=_datetime(line["cleared_at"]),
        )
        for line in row["transactions"]
    )
    return Statement(
        card_account_id=str(row["card_account_id"]),
        number=int(row["number"]),
        currency=str(row["currency"]),
        period_start=_date(row["period_start"]),
        period_end=_date(row["period_end"]),
        due_date=_date(row["due_date"]),
        status=str(row["status"]),
        principal_minor=int(row["principal_minor"]),
        billed_minor=int(row["billed_minor"]),
        fees_minor=int(row["fees_minor"]),
        interest_minor=int(row["interest_minor"]),
        total_due_minor=int(row["total_due_minor"]),
        lines=lines,
        closed_at=_datetime(row["closed_at"]),
    )


@dataclass(frozen=True, slots=True)
class StatementDocument:
    """Everything the printed statement shows: the statement, the account's terms and cards, the
    previous statement's total (the opening balance) and the repayments posted during the cycle."""

    statement: Statement
    terms: CardAccountTerms
    card_last_fours: Mapping[str, str]  # card id -> last four digits
    opening_balance_minor: int  # the previous statement's total due; 0 for the first
    payments_minor: int  # repayments posted after the previous close, up to this one

    @property
    def purchases_minor(self) -> int:
        return sum(line.amount_minor for line in self.statement.lines)

    @property
    def line_fees_minor(self) -> int:
        return sum(line.fee_minor for line in self.statement.lines)
