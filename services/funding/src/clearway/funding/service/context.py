"""Everything a funding use case may touch, wired once in `main.py` (and by tests with other parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.domain.invoices import Invoice, InvoiceTerms
from clearway.funding.domain.topups import TopupPolicy
from clearway.funding.service.ports import InvoiceDelivery, Ledger
from clearway.providers.mobile_money import MobileMoneyProvider

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class MobileMoneyNotConfiguredError(RuntimeError):
    """A top-up use case ran on a context built without a mobile-money provider (a wiring bug)."""


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
    # Top-ups: the rail that prompts the phone (None where a test needs no top-ups) and its policy.
    mobile_money: MobileMoneyProvider | None = None
    topup_policy: TopupPolicy = field(default_factory=TopupPolicy)

    def invoice_url(self, funding_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/funding/{funding_id}/invoice?format=pdf"

    def mobile_money_provider(self) -> MobileMoneyProvider:
        if self.mobile_money is None:
            raise MobileMoneyNotConfiguredError("this funding context has no mobile-money provider")
        return self.mobile_money
