"""Fundings: an invoice asking a payer for money, and what happens once the money arrives.

    awaiting_funds -> linking -> funded -> paid_out
    awaiting_funds -> cancelled | expired          (its payables return to approved)

`linking` is the persisted intent of a link-deposit (the transfer is claimed, the ledger has
not yet been told); `funded` means the deposit sits in the funding's clearing balance;
`paid_out` means the clearing balance went on to the payees' (or the workspace's) wallets.

A funding either pays a batch of approved payables (post-funding) or has no payables and
credits the workspace balance (pre-funding).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from clearway.funding.domain.errors import IllegalTransitionError, RuleViolationError
from clearway.funding.domain.payables import Payable, PayableStatus

FUNDING_ID_PREFIX = "fnd"
INVOICE_NUMBER_PREFIX = "CW"
PAYMENT_REFERENCE_BODY_PREFIX = "CWF"
INVOICE_SEQUENCE_DIGITS = 6
PAYMENT_REFERENCE_SEQUENCE_DIGITS = 12
FUNDING_PAYABLES_MAX = 100
_REFERENCE_SEPARATORS = re.compile(r"[\s\-./:,]+")


class FundingStatus(StrEnum):
    AWAITING_FUNDS = "awaiting_funds"
    LINKING = "linking"
    FUNDED = "funded"
    PAID_OUT = "paid_out"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class FundingKind(StrEnum):
    PAYABLES = "payables"  # post-funding: pays the listed payables
    PREFUNDING = "prefunding"  # pre-funding: credits the workspace balance


_ALLOWED: dict[FundingStatus, frozenset[FundingStatus]] = {
    FundingStatus.AWAITING_FUNDS: frozenset({FundingStatus.LINKING, FundingStatus.CANCELLED, FundingStatus.EXPIRED}),
    FundingStatus.LINKING: frozenset({FundingStatus.FUNDED}),
    FundingStatus.FUNDED: frozenset({FundingStatus.PAID_OUT}),
    FundingStatus.PAID_OUT: frozenset(),
    FundingStatus.CANCELLED: frozenset(),
    FundingStatus.EXPIRED: frozenset(),
}
# States the recovery loop drives forward after a crash.
UNFINISHED_STATUSES = (FundingStatus.LINKING, FundingStatus.FUNDED)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    amount_minor: int
    payable_id: str | None = None
    payee_id: str | None = None
    external_id: str | None = None

    def __post_init__(self) -> None:
        assert self.amount_minor > 0, "an invoice line is a positive amount"


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class LinkedDeposit:
    """The settled transfer a funding was paid with."""

    deposit_id: str
    processor: str
    transfer_id: str
    account_id: str
    amount_minor: int
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class Funding:
    id: str
    workspace_id: str
    kind: FundingKind
    status: FundingStatus
    currency: str
    total_minor: int
    lines: tuple[InvoiceLine, ...]
    invoice_number: str
    payment_reference: str
    due_date: date
    expires_at: datetime
    recipient: Recipient
    created_by: str
    created_at: datetime
    updated_at: datetime
    deposit: LinkedDeposit | None = None
    funded_at: datetime | None = None
    paid_out_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    invoice_sent_at: datetime | None = None
    invoice_send_attempts: int = 0
    # The creating request's Idempotency-Key, when it had one: a retry whose first attempt committed
    # but never got its answer stored (the process died in between) finds this funding again.
    request_key: str | None = None

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{FUNDING_ID_PREFIX}_"), f"not a funding id: {self.id!r}"
        assert self.total_minor == invoice_total(self.lines), "the total is exactly the sum of the lines"
        assert (self.kind is FundingKind.PREFUNDING) == all(line.payable_id is None for line in self.lines)
        assert iso11649.is_valid(self.payment_reference), f"not an RF creditor reference: {self.payment_reference}"
        linked = {FundingStatus.LINKING, FundingStatus.FUNDED, FundingStatus.PAID_OUT}
        assert (self.status in linked) == (self.deposit is not None), "linked states name their deposit"
        assert self.deposit is None or self.deposit.amount_minor == self.total_minor, "deposits match exactly"

    @property
    def payable_ids(self) -> list[str]:
        return [line.payable_id for line in self.lines if line.payable_id is not None]

    def _moved(self, target: FundingStatus, action: str, now: datetime, **changes: object) -> Funding:
        if target not in _ALLOWED[self.status]:
            raise IllegalTransitionError("funding", self.id, action, self.status.value)
        return replace(self, status=target, updated_at=max(now, self.updated_at), **changes)  # type: ignore[arg-type]

    def start_linking(self, deposit: LinkedDeposit, now: datetime) -> Funding:
        return self._moved(FundingStatus.LINKING, "link a deposit to", now, deposit=deposit)

    def mark_funded(self, now: datetime) -> Funding:
        return self._moved(FundingStatus.FUNDED, "mark funded", now, funded_at=now)

    def mark_paid_out(self, now: datetime) -> Funding:
        return self._moved(FundingStatus.PAID_OUT, "mark paid out", now, paid_out_at=now)

    def cancel(self, by: str, now: datetime) -> Funding:
        return self._moved(FundingStatus.CANCELLED, "cancel", now, cancelled_by=by, cancelled_at=now)

    def expire(self, now: datetime) -> Funding:
        assert now >= self.expires_at, "only an overdue funding expires"
        return self._moved(FundingStatus.EXPIRED, "expire", now)

    def record_invoice_sent(self, now: datetime) -> Funding:
        return replace(self, invoice_sent_at=now, invoice_send_attempts=self.invoice_send_attempts + 1)

    def record_invoice_send_failed(self) -> Funding:
        return replace(self, invoice_send_attempts=self.invoice_send_attempts + 1)


def invoice_total(lines: Sequence[InvoiceLine]) -> int:
    """Exact integer sum of minor units; never rounded, never a float."""
    assert lines, "an invoice has at least one line"
    total = sum(line.amount_minor for line in lines)
    assert all(isinstance(line.amount_minor, int) for line in lines), "amounts are integers"
    return total


def format_invoice_number(issued_on: date, sequence: int) -> str:
    """`CW-2024-000042`: unique because the sequence is; the year helps a human file it."""
    assert sequence >= 1, "invoice sequences start at 1"
    return f"{INVOICE_NUMBER_PREFIX}-{issued_on.year:04d}-{sequence:0{INVOICE_SEQUENCE_DIGITS}d}"


def payment_reference_for(sequence: int) -> str:
    """An ISO 11649 creditor reference (`RF` + check digits + body): banks carry it intact and
    a mistyped reference fails its check digits instead of matching another invoice."""
    assert 1 <= sequence < 10**PAYMENT_REFERENCE_SEQUENCE_DIGITS, "sequence out of range"
    body = f"{PAYMENT_REFERENCE_BODY_PREFIX}{sequence:0{PAYMENT_REFERENCE_SEQUENCE_DIGITS}d}"
    reference = f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    assert iso11649.is_valid(reference)
    return reference


def normalize_payment_reference(text: str | None) -> str | None:
    """What a payer typed, as stored: separators dropped, upper case; None unless a valid RF reference."""
    if not text:
        return None
    compact = _REFERENCE_SEPARATORS.sub("", text).upper()
    return compact if iso11649.is_valid(compact) else None


@dataclass(frozen=True, slots=True)
class FundablePayables:
    currency: str
    lines: tuple[InvoiceLine, ...]


def check_fundable(requested_ids: Sequence[str], found: Sequence[Payable], workspace_id: str) -> FundablePayables:
    """All requested payables exist in the workspace, are approved, free and in one currency;
    otherwise a 422 naming every offending id by reason."""
    assert len(set(requested_ids)) == len(requested_ids), "duplicates are refused before this"
    by_id = {payable.id: payable for payable in found if payable.workspace_id == workspace_id}
    reasons: dict[str, list[str]] = {"not_found": [], "not_approved": [], "already_in_funding": []}
    for payable_id in requested_ids:
        payable = by_id.get(payable_id)
        if payable is None:
            reasons["not_found"].append(payable_id)
        elif payable.funding_id is not None:
            reasons["already_in_funding"].append(payable_id)
        elif payable.status is not PayableStatus.APPROVED:
            reasons["not_approved"].append(payable_id)
    present = [by_id[payable_id] for payable_id in requested_ids if payable_id in by_id]
    currencies = sorted({payable.currency for payable in present})
    if len(currencies) > 1:
        majority = max(currencies, key=lambda code: sum(p.currency == code for p in present))
        reasons["currency_mismatch"] = [p.id for p in present if p.currency != majority]
    offending = sorted({payable_id for ids in reasons.values() for payable_id in ids})
    if offending:
        raise RuleViolationError(
            f"{len(offending)} payable(s) cannot be funded: {', '.join(offending)}.",
            code="PAYABLES_NOT_FUNDABLE",
            offending_payable_ids=offending,
            reasons={reason: ids for reason, ids in reasons.items() if ids},
        )
    lines = tuple(
        InvoiceLine(
            description=payable.description,
            amount_minor=payable.amount_minor,
            payable_id=payable.id,
            payee_id=payable.payee_id,
            external_id=payable.external_id,
        )
        for payable in present
    )
    return FundablePayables(currency=currencies[0], lines=lines)


def check_deposit_matches(funding: Funding, amount_minor: int, currency: str) -> None:
    """A deposit pays an invoice only if it is exactly the invoice total, in its currency."""
    if (amount_minor, currency) != (funding.total_minor, funding.currency):
        raise RuleViolationError(
            f"The deposit is {amount_minor} {currency} (minor units); the invoice total is "
            f"{funding.total_minor} {funding.currency}.",
            code="DEPOSIT_AMOUNT_MISMATCH",
            invoice_total_minor=funding.total_minor,
            invoice_currency=funding.currency,
            deposit_amount_minor=amount_minor,
            deposit_currency=currency,
        )
