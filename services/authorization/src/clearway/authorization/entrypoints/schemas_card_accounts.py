"""HTTP shapes of card accounts and cards (X, XCreate, XUpdate, XOut)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clearway.authorization.domain.card_accounts import (
    BALANCE_TYPES,
    BILLING_CYCLE_DAY_MAX,
    BILLING_CYCLE_DAY_MIN,
    BPS_MAX,
    DEFAULT_FEE_MARKUP_BPS,
    PAYMENT_DUE_DAYS_MAX,
    CardAccountStatus,
    CardAccountTerms,
    OpenCardAccount,
)
from clearway.authorization.domain.cards import BLOCKED_MCCS_MAX, Card, CardControls, CardStatus, UpdateCard
from clearway.authorization.domain.repayment_references import repayment_reference_for
from clearway.authorization.service.card_accounts import CardAccountView
from clearway.platform.money import AmountMinor, PositiveAmountMinor
from clearway.platform.pagination import PageParams

Mcc = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardAccountCreate(_Body):
    """Types are checked here (400 when malformed); ranges by the domain, so each out-of-range term
    is refused 422 with its own code (BILLING_CYCLE_DAY_INVALID, CREDIT_LIMIT_INVALID, ...)."""

    identity_id: str = Field(min_length=1, max_length=200, description="The cardholder's ledger identity.")
    currency: str = Field(min_length=1, max_length=8)
    credit_limit_minor: AmountMinor
    billing_cycle_day: int = Field(strict=True, description=f"{BILLING_CYCLE_DAY_MIN}-{BILLING_CYCLE_DAY_MAX}")
    payment_due_days: int = Field(strict=True, description=f"1-{PAYMENT_DUE_DAYS_MAX}")
    fee_markup_bps: int = Field(default=DEFAULT_FEE_MARKUP_BPS, strict=True, description=f"0-{BPS_MAX}")
    pending_interest_rate_bps: int = Field(default=0, strict=True, description=f"0-{BPS_MAX}")
    overdue_interest_rate_bps: int = Field(default=0, strict=True, description=f"0-{BPS_MAX}")

    def command(self) -> OpenCardAccount:
        return OpenCardAccount(
            identity_id=self.identity_id,
            currency=self.currency,
            terms=CardAccountTerms(
                credit_limit_minor=self.credit_limit_minor,
                billing_cycle_day=self.billing_cycle_day,
                payment_due_days=self.payment_due_days,
                fee_markup_bps=self.fee_markup_bps,
                pending_interest_rate_bps=self.pending_interest_rate_bps,
                overdue_interest_rate_bps=self.overdue_interest_rate_bps,
            ),
        )


class CardAccountBalancesOut(BaseModel):
    card_primary: str
    fees_payable: str
    transaction_interest: str
    billed_balance: str
    overdue_balance: str
    overdue_interest: str


class CardAccountOut(BaseModel):
    id: str
    status: CardAccountStatus
    identity_id: str
    currency: str
    credit_limit_minor: int
    billing_cycle_day: int
    payment_due_days: int
    fee_markup_bps: int
    pending_interest_rate_bps: int
    overdue_interest_rate_bps: int
    ledger_id: str | None
    repayment_reference: str | None = Field(
        description="ISO 11649 reference to quote on a bank transfer: funding's `transfer.created` carrying it "
        "as `payment_reference` repays this account."
    )
    balances: CardAccountBalancesOut | None = Field(description="The six ledger balance ids; null while opening.")
    # Live from the ledger on a single account's read; null in lists and while opening.
    available_credit_minor: int | None = None
    outstanding_minor: int | None = None
    pending_minor: int | None = None
    billed_minor: int | None = None
    overdue_minor: int | None = None
    fees_minor: int | None = None
    interest_minor: int | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_view(cls, view: CardAccountView) -> CardAccountOut:
        account, figures = view.account, view.figures
        balances = None
        if len(account.balance_ids) == len(BALANCE_TYPES):
            balances = CardAccountBalancesOut(
                **{name.replace(":", "_"): account.balance_ids[name] for name in BALANCE_TYPES}
            )
        terms = account.terms
        return cls(
            id=account.id,
            status=account.status,
            identity_id=account.identity_id,
            currency=account.currency,
            credit_limit_minor=terms.credit_limit_minor,
            repayment_reference=repayment_reference_for(account.id),
            billing_cycle_day=terms.billing_cycle_day,
            payment_due_days=terms.payment_due_days,
            fee_markup_bps=terms.fee_markup_bps,
            pending_interest_rate_bps=terms.pending_interest_rate_bps,
            overdue_interest_rate_bps=terms.overdue_interest_rate_bps,
            ledger_id=account.ledger_id,
            balances=balances,
            available_credit_minor=figures.available_credit_minor if figures else None,
            outstanding_minor=figures.outstanding_minor if figures else None,
            pending_minor=figures.pending_minor if figures else None,
            billed_minor=figures.billed_minor if figures else None,
            overdue_minor=figures.overdue_minor if figures else None,
            fees_minor=figures.fees_minor if figures else None,
            interest_minor=figures.interest_minor if figures else None,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class CardAccountListParams(PageParams):
    identity_id: str | None = Field(default=None, min_length=1, max_length=200)
    customer_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Deprecated spelling of identity_id."
    )


class CardControlsIn(_Body):
    blocked_mccs: list[Mcc] = Field(default_factory=list, max_length=BLOCKED_MCCS_MAX)
    per_transaction_max_minor: PositiveAmountMinor | None = None
    daily_max_minor: PositiveAmountMinor | None = None
    atm_allowed: bool = True

    def controls(self) -> CardControls:
        return CardControls(
            blocked_mccs=tuple(self.blocked_mccs),
            per_transaction_max_minor=self.per_transaction_max_minor,
            daily_max_minor=self.daily_max_minor,
            atm_allowed=self.atm_allowed,
        )


class CardControlsOut(BaseModel):
    blocked_mccs: list[str]
    per_transaction_max_minor: int | None
    daily_max_minor: int | None
    atm_allowed: bool


class CardCreate(_Body):
    # Wider than four characters on purpose: a PAN sent here is refused with PAN_NOT_ALLOWED, not
    # a generic validation error, so a client learns what it did wrong.
    last_four: str = Field(min_length=1, max_length=32)
    expires: str = Field(min_length=1, max_length=32, description="MM/YY")
    controls: CardControlsIn = Field(default_factory=CardControlsIn)


class CardUpdate(_Body):
    status: CardStatus | None = None
    controls: CardControlsIn | None = None

    def change(self) -> UpdateCard:
        return UpdateCard(status=self.status, controls=self.controls.controls() if self.controls else None)


class CardOut(BaseModel):
    id: str
    card_account_id: str
    status: CardStatus
    last_four: str
    expires: str
    controls: CardControlsOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, card: Card) -> CardOut:
        return cls(
            id=card.id,
            card_account_id=card.card_account_id,
            status=card.status,
            last_four=card.last_four,
            expires=card.expires,
            controls=CardControlsOut(
                blocked_mccs=list(card.controls.blocked_mccs),
                per_transaction_max_minor=card.controls.per_transaction_max_minor,
                daily_max_minor=card.controls.daily_max_minor,
                atm_allowed=card.controls.atm_allowed,
            ),
            created_at=card.created_at,
            updated_at=card.updated_at,
        )
