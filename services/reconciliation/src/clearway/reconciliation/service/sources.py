"""Which link another service's event lands on.

A payout rail's link names `payout:<provider>:<currency>` as its external account (create it with
that `external_account_id`), a mobile-money collection account `collections:<provider>:<currency>`;
a funding invoice is expected on the first bank-statement link in its currency.
"""

from __future__ import annotations

from clearway.reconciliation.domain.links import Link, LinkKind
from clearway.reconciliation.service.context import ReconciliationContext


def payout_account(provider: str, currency: str) -> str:
    return f"payout:{provider}:{currency}"


async def payout_link(context: ReconciliationContext, provider: str, currency: str) -> Link | None:
    async with context.unit_of_work() as uow:
        return await uow.links.by_external_account(payout_account(provider, currency))


async def funding_link(context: ReconciliationContext, currency: str) -> Link | None:
    async with context.unit_of_work() as uow:
        return await uow.links.first_of_kind(LinkKind.BANK_STATEMENT, currency)


def collection_account(provider: str, currency: str) -> str:
    return f"collections:{provider}:{currency}"


async def collection_link(context: ReconciliationContext, provider: str, currency: str) -> Link | None:
    async with context.unit_of_work() as uow:
        return await uow.links.by_external_account(collection_account(provider, currency))
