"""Funding use cases: issue an invoice (post- or pre-funding), read it, cancel or expire it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.domain.errors import IdempotencyKeyReusedError, NotFoundError
from clearway.funding.domain.fundings import (
    FUNDING_ID_PREFIX,
    Funding,
    FundingKind,
    FundingStatus,
    InvoiceLine,
    Recipient,
    check_fundable,
    format_invoice_number,
    invoice_total,
    payment_reference_for,
)
from clearway.funding.service import event_builders
from clearway.funding.service.context import FundingContext
from clearway.funding.service.invoices import deliver_invoice
from clearway.platform.ids import new_id

logger = logging.getLogger(__name__)

PREFUNDING_LINE = "Pre-funding of the workspace balance"


@dataclass(frozen=True, slots=True)
class NewFunding:
    """Either `payable_ids` (post-funding) or `amount_minor` + `currency` (pre-funding)."""

    recipient: Recipient
    payable_ids: tuple[str, ...] = ()
    amount_minor: int | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        prefunding = self.amount_minor is not None and self.currency is not None
        assert bool(self.payable_ids) != prefunding, "payable_ids, or amount_minor with currency"
        assert len(set(self.payable_ids)) == len(self.payable_ids), "payable ids are unique"


def _not_found(funding_id: str) -> NotFoundError:
    return NotFoundError(f"No funding {funding_id}.", code="FUNDING_NOT_FOUND", funding_id=funding_id)


def _same_request(funding: Funding, new: NewFunding) -> bool:
    if new.payable_ids:
        return funding.kind is FundingKind.PAYABLES and set(funding.payable_ids) == set(new.payable_ids)
    return funding.kind is FundingKind.PREFUNDING and (funding.total_minor, funding.currency) == (
        new.amount_minor,
        new.currency,
    )


async def create_funding(
    context: FundingContext, workspace_id: str, actor: str, new: NewFunding, *, request_key: str | None = None
) -> Funding:
    """A new funding; with `request_key` (the request's Idempotency-Key), the funding that key already
    created, when it did: the platform's stored answer is written after this commit, so a process that
    dies in between leaves a retry to re-run this, which must not refuse payables it already funded."""
    now = context.clock()
    async with context.unit_of_work() as uow:
        await uow.workspaces.ensure(workspace_id, auto_link_deposits=context.auto_link_deposits_default, now=now)
        if request_key is not None:
            existing = await uow.fundings.get_by_request_key(workspace_id, request_key)
            if existing is not None:
                if not _same_request(existing, new):
                    raise IdempotencyKeyReusedError("This Idempotency-Key was already used for a different funding.")
                return existing
        payables = []
        if new.payable_ids:
            # Locked in id order: two fundings racing for one payable queue here, the second is refused.
            payables = list(await uow.payables.get_many(new.payable_ids, for_update=True))
            fundable = check_fundable(new.payable_ids, payables, workspace_id)
            kind, currency, lines = FundingKind.PAYABLES, fundable.currency, fundable.lines
        else:
            assert new.amount_minor is not None and new.currency is not None
            kind, currency = FundingKind.PREFUNDING, new.currency
            lines = (InvoiceLine(description=PREFUNDING_LINE, amount_minor=new.amount_minor),)
        sequence = await uow.fundings.next_invoice_sequence()
        due_date = now.date() + timedelta(days=context.terms.due_days)
        funding = Funding(
            id=new_id(FUNDING_ID_PREFIX),
            workspace_id=workspace_id,
            kind=kind,
            status=FundingStatus.AWAITING_FUNDS,
            currency=currency,
            total_minor=invoice_total(lines),
            lines=lines,
            invoice_number=format_invoice_number(now.date(), sequence),
            payment_reference=payment_reference_for(sequence),
            due_date=due_date,
            expires_at=datetime.combine(due_date, time(0), tzinfo=UTC)
            + timedelta(days=context.terms.expiry_grace_days + 1),
            recipient=new.recipient,
            created_by=actor,
            created_at=now,
            updated_at=now,
            request_key=request_key,
        )
        await uow.fundings.add(funding)
        for payable in payables:
            await uow.payables.save(payable.add_to_funding(funding.id, now))
        await uow.events.add(event_builders.funding_created(funding, now))
        await uow.commit()
    # After the commit: a mail server being slow or down never loses the funding. The recovery
    # loop sends what is still unsent.
    await deliver_invoice(context, funding.id)
    return await get_funding(context, workspace_id, funding.id)


async def get_funding(context: FundingContext, workspace_id: str, funding_id: str) -> Funding:
    async with context.unit_of_work() as uow:
        funding = await uow.fundings.get(funding_id)
    if funding is None or funding.workspace_id != workspace_id:
        raise _not_found(funding_id)
    return funding


async def list_fundings(
    context: FundingContext,
    workspace_id: str,
    *,
    status: FundingStatus | None,
    starting_after: str | None,
    limit: int,
) -> Sequence[Funding]:
    async with context.unit_of_work() as uow:
        found = await uow.fundings.list(workspace_id, status=status, starting_after=starting_after, limit=limit)
    assert len(found) <= limit
    return found


async def _end_unpaid(
    uow: SqlFundingUnitOfWork, funding: Funding, ended: Funding, now: datetime, by: str | None
) -> None:
    """Cancel or expire: the payables go back to approved, free to join another funding."""
    for payable in await uow.payables.for_funding(funding.id, for_update=True):
        await uow.payables.save(payable.release_from_funding(now))
    await uow.fundings.save(ended)
    await uow.events.add(event_builders.funding_cancelled(ended, now, by=by))


async def cancel_funding(context: FundingContext, workspace_id: str, funding_id: str, actor: str) -> Funding:
    now = context.clock()
    async with context.unit_of_work() as uow:
        funding = await uow.fundings.get(funding_id, for_update=True)
        if funding is None or funding.workspace_id != workspace_id:
            raise _not_found(funding_id)
        cancelled = funding.cancel(actor, now)
        await _end_unpaid(uow, funding, cancelled, now, actor)
        await uow.commit()
    return cancelled


async def expire_funding(context: FundingContext, funding_id: str) -> bool:
    now = context.clock()
    async with context.unit_of_work() as uow:
        funding = await uow.fundings.get(funding_id, for_update=True)
        if funding is None or funding.status is not FundingStatus.AWAITING_FUNDS or funding.expires_at > now:
            return False
        await _end_unpaid(uow, funding, funding.expire(now), now, None)
        await uow.commit()
    logger.info("funding %s expired unpaid", funding_id)
    return True
