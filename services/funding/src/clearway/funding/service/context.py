"""Everything a funding use case may touch, wired once in `main.py` (and by tests with other parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.service.ports import InvoiceDelivery, Ledger

if TYPE_CHECKING:
    from clearway.funding.service.invoices import Invoice

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class InvoiceTerms:
    """What every invoice says besides its lines: who issues it and how to pay it."""

    issuer_name: str
    bank_name: str
    account_name: str
    account_number: str
    due_days: int
    expiry_grace_days: int
    send_attempts_max: int


@dataclass(frozen=True, slots=True)
class FundingContext:
    unit_of_work: Callable[[], SqlFundingUnitOfWork]
    ledger: Ledger
    delivery: InvoiceDelivery
    render_invoice: Callable[[Invoice], bytes]
    terms: InvoiceTerms
    public_url: str
    auto_link_deposits_default: bool
    batch_size_max: int = 50
    clock: Clock = utc_now

    def invoice_url(self, funding_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/funding/{funding_id}/invoice?format=pdf"
