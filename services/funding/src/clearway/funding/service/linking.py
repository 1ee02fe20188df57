"""Link-deposit: a settled transfer pays a funding invoice, and the money moves in the ledger.

Crash-safe step order (ledger calls never run inside a database transaction):
1. intent, one transaction: the funding goes `linking` naming the transfer, and the deposit is
   claimed (a transfer links once);
2. ledger: cash -> funding clearing balance (reference `funding:<id>:deposit:<transfer>`);
3. one transaction: funding `funded`, its payables `funded`, `funding.deposit_linked`;
4. ledger: clearing -> each payee's wallet (`funding:<id>:payable:<payable>`, all payables in
   one bulk request), or for a pre-funding clearing -> the workspace wallet (`funding:<id>:workspace`);
5. one transaction: payables `paid` with `payable.paid` each, funding `paid_out`.
The recovery loop resumes any funding left in `linking` or `funded`; repeated ledger calls are
replays of the same references.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime

from clearway.funding.domain.deposits import Deposit
from clearway.funding.domain.errors import ConflictError, NotFoundError, RuleViolationError
from clearway.funding.domain.fundings import (
    Funding,
    FundingKind,
    FundingStatus,
    LinkedDeposit,
    check_deposit_matches,
)
from clearway.funding.domain.payables import Payable, PayableStatus
from clearway.funding.domain.postings import (
    deposit_posting,
    payable_posting,
    payable_reference,
    workspace_credit_posting,
)
from clearway.funding.service import balance_payments, event_builders
from clearway.funding.service.context import Clock, FundingContext
from clearway.funding.service.ports import FundingUnitOfWork, Ledger, LedgerTransaction, LedgerUnavailableError
from clearway.funding.service.workspaces import workspace_wallet

logger = logging.getLogger(__name__)

APPLIED = "APPLIED"
# linking -> funded -> paid_out: two moves at most, one spare.
ADVANCE_STEPS_MAX = 3
AUTO_LINK_ACTOR = "auto-link"
# Refusal codes a caller other than HTTP tells apart (the `transfer.reconciled` consumer).
FUNDING_NOT_FOUND = "FUNDING_NOT_FOUND"
DEPOSIT_NOT_FOUND = "DEPOSIT_NOT_FOUND"
# Wallet look-ups a pay-out has in flight at once: enough to overlap the round trips, few enough
# not to crowd the ledger's connection pool.
WALLETS_IN_FLIGHT_MAX = 8


class LedgerPostingRejectedError(RuntimeError):
    """The ledger refused a posting funding's own bookkeeping says must succeed: needs a person."""


async def claim_deposit(
    uow: FundingUnitOfWork, funding: Funding, deposit: Deposit, actor: str, now: datetime
) -> Funding:
    """Step 1, inside the caller's transaction (HTTP link or automatic link); both rows are locked."""
    check_deposit_matches(funding, deposit.amount_minor, deposit.currency)
    linked = LinkedDeposit(
        deposit_id=deposit.id,
        processor=deposit.processor,
        transfer_id=deposit.transfer_id,
        account_id=deposit.account_id,
        amount_minor=deposit.amount_minor,
        linked_by=actor,
        linked_at=now,
    )
    linking = funding.start_linking(linked, now)
    await uow.deposits.mark_linked(deposit.id, funding.id, now)
    await uow.fundings.save(linking)
    return linking


async def claim_transfer(
    uow: FundingUnitOfWork,
    funding_id: str,
    *,
    workspace_id: str | None,
    transfer_id: str,
    processor: str | None,
    actor: str,
    clock: Clock,
    deposit_owner: str | None = None,
) -> Funding:
    """Step 1 for a transfer named by id, inside the caller's transaction: lock the funding and the
    transfer's deposit, refuse what cannot link, claim. The one path of every link a person or
    reconciliation asks for; `workspace_id` None is a caller that names the funding by its id
    alone (the `transfer.reconciled` consumer), not on behalf of a workspace."""
    funding = await uow.fundings.get(funding_id, for_update=True)
    if funding is None or (workspace_id is not None and funding.workspace_id != workspace_id):
        raise NotFoundError(f"No funding {funding_id}.", code=FUNDING_NOT_FOUND, funding_id=funding_id)
    # Another workspace's deposit is "not found", as a missing one is (issue 14 §3).
    candidates = await uow.deposits.find_by_transfer(transfer_id, processor, owner_workspace=deposit_owner)
    if not candidates:
        raise NotFoundError(f"No deposit for transfer {transfer_id}.", code=DEPOSIT_NOT_FOUND, transfer_id=transfer_id)
    if len(candidates) > 1:
        raise RuleViolationError(
            f"Transfer {transfer_id} came from several processors; name the processor.",
            code="AMBIGUOUS_TRANSFER",
            processors=sorted(candidate.processor for candidate in candidates),
        )
    deposit = await uow.deposits.get_for_update(candidates[0].id)
    assert deposit is not None
    if deposit.linked_funding_id is not None:
        raise ConflictError(
            f"Transfer {transfer_id} is already linked to funding {deposit.linked_funding_id}.",
            code="DEPOSIT_ALREADY_LINKED",
            linked_funding_id=deposit.linked_funding_id,
            current_status=funding.status.value,
        )
    # A funding already paid (or cancelled) is a 409 naming its state, before any amount check.
    if funding.status is not FundingStatus.AWAITING_FUNDS:
        raise ConflictError(
            f"Funding {funding.id} is {funding.status.value}; it cannot take a deposit.",
            code="ILLEGAL_STATE_TRANSITION",
            current_status=funding.status.value,
        )
    # Read after the row locks, inside the transaction that writes it (issue 12, defect 2).
    return await claim_deposit(uow, funding, deposit, actor, clock())


async def link_deposit(
    context: FundingContext,
    workspace_id: str,
    funding_id: str,
    *,
    transfer_id: str,
    processor: str | None,
    actor: str,
    deposit_owner: str | None,
) -> Funding:
    """`deposit_owner`: a workspace key may link only a deposit on its own receiving accounts (None:
    a platform key, any deposit)."""
    async with context.unit_of_work() as uow:
        await claim_transfer(
            uow,
            funding_id,
            workspace_id=workspace_id,
            transfer_id=transfer_id,
            processor=processor,
            actor=actor,
            clock=context.clock,
            deposit_owner=deposit_owner,
        )
        await uow.commit()
    try:
        return await advance_funding(context, funding_id)
    except LedgerUnavailableError:
        # The link is claimed and will complete: the recovery loop resumes it when the ledger is back.
        logger.warning("ledger unavailable while completing the link of funding %s", funding_id)
        async with context.unit_of_work() as uow:
            current = await uow.fundings.get(funding_id)
        assert current is not None
        return current


async def advance_funding(context: FundingContext, funding_id: str) -> Funding:
    """Drive a linked funding to `paid_out`; safe to call any number of times, from anywhere."""
    funding: Funding | None = None
    for _step in range(ADVANCE_STEPS_MAX):
        async with context.unit_of_work() as uow:
            funding = await uow.fundings.get(funding_id)
        assert funding is not None, f"funding {funding_id} vanished"
        if funding.status is FundingStatus.LINKING:
            await _post_deposit(context, funding)
        elif funding.status is FundingStatus.FUNDED:
            await _pay_out(context, funding)
        else:
            break
    assert funding is not None
    if funding.status is FundingStatus.PAID_OUT and funding.kind is FundingKind.PREFUNDING:
        # New money in the workspace: pay what has been waiting for it, in approval order.
        await balance_payments.pay_waiting(context, funding.workspace_id, funding.currency)
    return funding


def _require_applied(transaction: LedgerTransaction, what: str) -> None:
    if transaction.status != APPLIED:
        raise LedgerPostingRejectedError(
            f"{what}: ledger answered {transaction.status} ({transaction.rejection_reason}) for {transaction.reference}"
        )


async def _post_deposit(context: FundingContext, funding: Funding) -> None:
    transaction = await context.ledger.post(deposit_posting(funding))
    _require_applied(transaction, f"deposit of funding {funding.id}")
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.fundings.get(funding.id, for_update=True)
        assert current is not None
        if current.status is not FundingStatus.LINKING:
            return  # another worker got here first
        funded = current.mark_funded(now)
        for payable in await uow.payables.for_funding(funding.id, for_update=True):
            if payable.status is PayableStatus.IN_FUNDING:
                await uow.payables.save(payable.mark_funded(now))
        await uow.fundings.save(funded)
        await uow.events.add(event_builders.funding_deposit_linked(funded, now))
        await uow.commit()
    logger.info("funding %s funded by transfer %s", funding.id, funded.deposit.transfer_id if funded.deposit else "?")


async def _pay_out(context: FundingContext, funding: Funding) -> None:
    if funding.kind is FundingKind.PREFUNDING:
        wallet = await workspace_wallet(context, funding.workspace_id, funding.currency)
        transaction = await context.ledger.post(workspace_credit_posting(funding, wallet.balance_id))
        _require_applied(transaction, f"workspace credit of funding {funding.id}")
    else:
        async with context.unit_of_work() as uow:
            payables = await uow.payables.for_funding(funding.id)
        await pay_payees(context.ledger, funding, payables)
    now = context.clock()
    async with context.unit_of_work() as uow:
        current = await uow.fundings.get(funding.id, for_update=True)
        assert current is not None
        if current.status is not FundingStatus.FUNDED:
            return
        for payable in await uow.payables.for_funding(funding.id, for_update=True):
            if payable.status is PayableStatus.FUNDED:
                paid = payable.mark_paid(payable_reference(funding.id, payable.id), now)
                await uow.payables.save(paid)
                await uow.events.add(event_builders.payable_paid(paid, now))
        await uow.fundings.save(current.mark_paid_out(now))
        await uow.commit()
    logger.info("funding %s paid out", funding.id)


async def pay_payees(ledger: Ledger, funding: Funding, payables: Sequence[Payable]) -> None:
    """Step 4 of a post-funding: every payee's wallet, then one bulk posting for all the payables.

    Each posting must come back APPLIED (a replay of one applied earlier does); otherwise the
    payable it pays is named in the error, and a later pass repeats the whole step as replays.
    """
    wallets = await _payee_wallets(ledger, payables)
    postings = [
        payable_posting(funding, payable, wallets[(payable.payee_id, payable.currency)]) for payable in payables
    ]
    transactions = await ledger.post_many(postings)
    assert len(transactions) == len(payables), "the ledger answers once per posting"
    for payable, transaction in zip(payables, transactions, strict=True):
        assert transaction.reference == payable_reference(funding.id, payable.id)
        _require_applied(transaction, f"payable {payable.id}")


async def _payee_wallets(ledger: Ledger, payables: Sequence[Payable]) -> dict[tuple[str, str], str]:
    """Balance ids by (payee, currency), ensured concurrently, at most WALLETS_IN_FLIGHT_MAX at once."""
    owners = sorted({(payable.payee_id, payable.currency) for payable in payables})
    in_flight = asyncio.Semaphore(WALLETS_IN_FLIGHT_MAX)

    async def ensure(payee_id: str, currency: str) -> str:
        async with in_flight:
            return (await ledger.ensure_wallet(payee_id, currency)).balance_id

    # Every call runs to its end before a failure is raised: no request is left running unseen.
    answers = await asyncio.gather(*(ensure(*owner) for owner in owners), return_exceptions=True)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return {owner: str(answer) for owner, answer in zip(owners, answers, strict=True)}
