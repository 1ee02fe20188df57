"""Card accounts: a cardholder's charge-card account, its credit terms and its ledger balances.

Balances are not kept here: the ledger holds the account's six sub-balances (seed 002, step 1a) in
a ledger of the account's own, and is the only place money is counted. The row says whose account
it is, its terms, whether it may spend, and where its balances are. It is committed `opening`
before the ledger is asked for anything, and becomes `active` once every balance exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from clearway.authorization.domain.errors import ConflictError, RuleViolationError

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
CARD_ACCOUNT_ID_PREFIX = "cac"

# Seed 002's six sub-balances, by their `meta_data.type` (seed_charge_card.py spells them so).
CARD_PRIMARY = "card:primary"
FEES_PAYABLE = "fees:payable"
TRANSACTION_INTEREST = "transaction:interest"
BILLED_BALANCE = "billed:balance"
OVERDUE_BALANCE = "overdue:balance"
OVERDUE_INTEREST = "overdue:interest"
BALANCE_TYPES: tuple[str, ...] = (
    CARD_PRIMARY,
    FEES_PAYABLE,
    TRANSACTION_INTEREST,
    BILLED_BALANCE,
    OVERDUE_BALANCE,
    OVERDUE_INTEREST,
)

BILLING_CYCLE_DAY_MIN, BILLING_CYCLE_DAY_MAX = 1, 28
PAYMENT_DUE_DAYS_MAX = 60
BPS_MAX = 10_000
DEFAULT_FEE_MARKUP_BPS = 150


class CardAccountStatus(StrEnum):
    OPENING = "opening"  # committed; its ledger balances are being opened
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CardAccountTerms:
    credit_limit_minor: int
    billing_cycle_day: int
    payment_due_days: int
    fee_markup_bps: int = DEFAULT_FEE_MARKUP_BPS
    pending_interest_rate_bps: int = 0
    overdue_interest_rate_bps: int = 0


@dataclass(frozen=True, slots=True)
class OpenCardAccount:
    identity_id: str
    currency: str
    terms: CardAccountTerms


def check_terms(currency: str, terms: CardAccountTerms, *, known_currency: bool) -> None:
    """Refusals a caller can cause, each with its own code (the schema checks types and ranges too)."""
    if not CURRENCY_PATTERN.match(currency) or not known_currency:
        raise RuleViolationError(f"{currency[:8]!r} is not an ISO 4217 currency code.", code="CURRENCY_UNKNOWN")
    if terms.credit_limit_minor <= 0:
        # The ledger reads an overdraft limit of 0 as "no limit": a card without credit is refused here.
        raise RuleViolationError("A charge card needs a positive credit limit.", code="CREDIT_LIMIT_INVALID")
    if not BILLING_CYCLE_DAY_MIN <= terms.billing_cycle_day <= BILLING_CYCLE_DAY_MAX:
        raise RuleViolationError("billing_cycle_day is a day of the month, 1 to 28.", code="BILLING_CYCLE_DAY_INVALID")
    if not 1 <= terms.payment_due_days <= PAYMENT_DUE_DAYS_MAX:
        raise RuleViolationError(
            f"payment_due_days is 1 to {PAYMENT_DUE_DAYS_MAX} days.", code="PAYMENT_DUE_DAYS_INVALID"
        )
    for name, bps in (
        ("fee_markup_bps", terms.fee_markup_bps),
        ("pending_interest_rate_bps", terms.pending_interest_rate_bps),
        ("overdue_interest_rate_bps", terms.overdue_interest_rate_bps),
    ):
        if not 0 <= bps <= BPS_MAX:
            raise RuleViolationError(f"{name} is 0 to {BPS_MAX} basis points.", code="RATE_INVALID")


def ledger_ik(card_account_id: str) -> str:
    """The ik the account's ledger is created with: opening again answers the same ledger."""
    return f"authorization:card-account:{card_account_id}"


def balance_indicator(card_account_id: str, balance_type: str) -> str:
    """The indicator of one sub-balance: opening it again answers the balance the first call made."""
    assert balance_type in BALANCE_TYPES, balance_type
    return f"card-account:{card_account_id}:{balance_type}"


@dataclass(frozen=True, slots=True)
class CardAccount:
    id: str
    identity_id: str
    currency: str
    terms: CardAccountTerms
    status: CardAccountStatus
    ledger_id: str | None
    created_at: datetime
    updated_at: datetime
    balance_ids: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{CARD_ACCOUNT_ID_PREFIX}_"), f"not a card account id: {self.id!r}"
        assert self.identity_id, "a card account belongs to an identity"
        assert self.terms.credit_limit_minor >= 0, "credit limits are non-negative minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "an account cannot change before it exists"
        assert set(self.balance_ids) <= set(BALANCE_TYPES), f"unknown balances: {sorted(self.balance_ids)}"
        if self.status is not CardAccountStatus.OPENING:
            assert self.ledger_id is not None and len(self.balance_ids) == len(BALANCE_TYPES), (
                f"{self.id} is {self.status} without its ledger balances"
            )

    @property
    def can_authorize(self) -> bool:
        return self.status is CardAccountStatus.ACTIVE

    @property
    def credit_limit_minor(self) -> int:
        return self.terms.credit_limit_minor

    def balance_id(self, balance_type: str) -> str:
        assert balance_type in BALANCE_TYPES, balance_type
        found = self.balance_ids.get(balance_type)
        if found is None:
            raise ConflictError(f"Card account {self.id} is still opening.", code="CARD_ACCOUNT_OPENING")
        return found

    def opened(self, ledger_id: str, balance_ids: Mapping[str, str], now: datetime) -> CardAccount:
        assert self.status is CardAccountStatus.OPENING, f"{self.id} is {self.status}, not opening"
        assert set(balance_ids) == set(BALANCE_TYPES), sorted(balance_ids)
        return replace(
            self,
            status=CardAccountStatus.ACTIVE,
            ledger_id=ledger_id,
            balance_ids=MappingProxyType(dict(balance_ids)),
            updated_at=max(now, self.created_at),
        )


@dataclass(frozen=True, slots=True)
class CardAccountFigures:
    """An account's live figures, read from its ledger balances (amounts owed are positive)."""

    available_credit_minor: int
    outstanding_minor: int  # committed card spend not yet repaid (card primary's debit balance)
    pending_minor: int  # held by open authorizations (card primary's inflight debits)
    billed_minor: int
    overdue_minor: int
    fees_minor: int
    interest_minor: int  # transaction interest plus overdue interest


def figures_from_balances(credit_limit_minor: int, balances: Mapping[str, tuple[int, int]]) -> CardAccountFigures:
    """`balances`: per sub-balance type, (balance_minor, inflight_debit_minor) as the ledger reads it.

    Card primary overdraws as the card spends (seed 002: -2,500.00 after two clearings), so what is
    owed is the negative of each balance, and available credit is the limit plus card primary's
    balance less what holds reserve of it."""
    assert set(balances) == set(BALANCE_TYPES), sorted(balances)
    primary_minor, primary_held_minor = balances[CARD_PRIMARY]
    return CardAccountFigures(
        available_credit_minor=credit_limit_minor + primary_minor - primary_held_minor,
        outstanding_minor=-primary_minor,
        pending_minor=primary_held_minor,
        billed_minor=-balances[BILLED_BALANCE][0],
        overdue_minor=-balances[OVERDUE_BALANCE][0],
        fees_minor=-balances[FEES_PAYABLE][0],
        interest_minor=-(balances[TRANSACTION_INTEREST][0] + balances[OVERDUE_INTEREST][0]),
    )
