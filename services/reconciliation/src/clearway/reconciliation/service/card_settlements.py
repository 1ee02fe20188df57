"""Card-network settlement in three levels (domain/card_clearings.py): the settlement file, the
clearing files, and splitting each settled clearing into its card transactions.

The settlement file is an inbound expectation whose items are its clearings, so the bank's payment
matches it like any other (by reference or by amount and date) and posts levels 1 and 2. A clearing
splits (level 3) once it is settled and its file is in, whichever came last; each card transaction's
entry has an ik derived from the clearing, so a retry or the recovery pass is a ledger replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from clearway.platform.ledger import LedgerRefusedError
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.breaks import BreakKind, DetectedBreak, unknown_account
from clearway.reconciliation.domain.card_clearings import (
    CardClearing,
    CardTransaction,
    ClearingStatus,
    validate_clearing_file,
)
from clearway.reconciliation.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.expectations import (
    CARD_CLEARING_PREFIX,
    CARD_SETTLEMENT_SOURCE,
    Expectation,
    ExpectationItem,
    NewExpectation,
)
from clearway.reconciliation.domain.links import Link
from clearway.reconciliation.domain.matches import split_entries
from clearway.reconciliation.service import breaks, expectations
from clearway.reconciliation.service.context import ReconciliationContext
from clearway.reconciliation.service.ledger_posting import post_planned

logger = get_logger("clearway.reconciliation.card_settlements")


@dataclass(frozen=True, slots=True)
class SettlementView:
    expectation: Expectation
    clearings: Sequence[CardClearing]


def _source_id(link_id: str, settlement_id: str) -> str:
    return f"{link_id}:{settlement_id}"


async def link_of_network_account(
    context: ReconciliationContext, *, network: str, account_id: str, currency: str, file: str
) -> Link | None:
    """The link a network's file lands on (its `external_account_id`). None, with an `unknown_account`
    break, when no link syncs that account: the file cannot be kept without one, so the break says so."""
    async with context.unit_of_work() as uow:
        link = await uow.links.by_external_account(account_id)
        if link is None:
            await breaks.raise_break(
                uow,
                context,
                unknown_account(
                    network,
                    account_id,
                    first_file=file,
                    hint="POST /links with this external_account_id, then have the network resend its files",
                ),
            )
            await uow.commit()
    if link is not None and link.currency != currency:
        raise InvalidRequestError(
            f"{file} is in {currency}; link {link.id} reconciles {link.currency}.", code="CURRENCY_MISMATCH"
        )
    return link


async def import_settlement_file(
    context: ReconciliationContext,
    link_id: str,
    *,
    settlement_id: str,
    clearings: Sequence[tuple[str, int]],
    settled_on: date | None,
    actor: str,
) -> SettlementView:
    """Level 1's expectation: the bank should pay the clearings' total under the settlement's id
    (the caller runs the link's matching next, as for any expectation).
    Importing the same file again answers the stored one; a different file under the same id is refused."""
    if not clearings:
        raise InvalidRequestError("A settlement file lists at least one clearing.", code="SETTLEMENT_EMPTY")
    if len({clearing_id for clearing_id, _ in clearings}) != len(clearings):
        raise InvalidRequestError("A clearing appears twice in the file.", code="SETTLEMENT_DUPLICATE_CLEARING")
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
    if link is None:
        raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
    items = tuple(ExpectationItem(f"{CARD_CLEARING_PREFIX}{clearing_id}", amount) for clearing_id, amount in clearings)
    stored = await expectations.add_expectation(
        context,
        NewExpectation(
            link_id=link_id,
            direction="inbound",
            amount_minor=sum(amount for _, amount in clearings),
            currency=link.currency,
            reference=settlement_id,
            source=CARD_SETTLEMENT_SOURCE,
            source_id=_source_id(link_id, settlement_id),
            expected_on=settled_on,
            items=items,
        ),
        actor=actor,
    )
    assert stored is not None
    if stored.items != items:
        raise ConflictError(
            f"Settlement {settlement_id} was imported with different clearings.", code="SETTLEMENT_FILE_CONFLICT"
        )
    async with context.unit_of_work() as uow:
        await uow.card_clearings.from_settlement_file(link_id, settlement_id, clearings, context.clock(), settled=False)
        await uow.commit()
    return await get_settlement(context, link_id, settlement_id)


async def import_clearing_file(
    context: ReconciliationContext, link_id: str, *, clearing_id: str, transactions: list[CardTransaction]
) -> CardClearing:
    """Level 3's detail. Importing the same file again changes nothing; a different one is refused."""
    validate_clearing_file(clearing_id, transactions)
    async with context.unit_of_work() as uow:
        if await uow.links.get(link_id) is None:
            raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
        await uow.card_clearings.from_clearing_file(link_id, clearing_id, transactions, context.clock())
        stored = await uow.card_clearings.get(link_id, clearing_id)
        assert stored is not None and stored.transactions is not None
        if stored.transactions != tuple(transactions):
            raise ConflictError(
                f"Clearing {clearing_id} was imported with different transactions.", code="CLEARING_FILE_CONFLICT"
            )
        await uow.commit()
    await post_ready_clearings(context, link_id=link_id)
    return await get_clearing(context, link_id, clearing_id)


async def post_ready_clearings(context: ReconciliationContext, *, link_id: str | None) -> int:
    """Split every settled clearing whose file is in (one bounded batch); -> how many were posted."""
    async with context.unit_of_work() as uow:
        ready = await uow.card_clearings.ready(link_id, context.policy.posting_batch_size_max)
    posted = 0
    for clearing in ready:
        posted += await _split(context, clearing)
    return posted


async def _split(context: ReconciliationContext, clearing: CardClearing) -> bool:
    assert clearing.transactions is not None
    async with context.unit_of_work() as uow:
        link = await uow.links.get(clearing.link_id)
    assert link is not None
    failure = clearing.mismatch()
    if failure is None:
        try:
            for entry in split_entries(clearing):
                # The recovery pass and an import can split the same clearing at once: a replay.
                await post_planned(context, link.ledger_id, link.currency, entry)
        except LedgerRefusedError as error:
            failure = f"{error.code}: {error.detail}"[:500]
    async with context.unit_of_work() as uow:
        now = context.clock()
        status = ClearingStatus.POSTED if failure is None else ClearingStatus.MISMATCH
        await uow.card_clearings.set_status(clearing.id, status, now, failure)
        if failure is not None:
            await breaks.raise_break(
                uow,
                context,
                DetectedBreak(
                    BreakKind.CARD_CLEARING_MISMATCH,
                    subject=f"{clearing.link_id}:{clearing.clearing_id}",
                    link_id=clearing.link_id,
                    detail={
                        "clearing_id": clearing.clearing_id,
                        "settlement_id": clearing.settlement_id,
                        "settlement_file_minor": clearing.expected_minor,
                        "clearing_file_minor": clearing.file_total_minor,
                        "reason": failure,
                    },
                ),
            )
        await uow.commit()
    if failure is None:
        logger.info("card clearing split", clearing_id=clearing.clearing_id, transactions=len(clearing.transactions))
    else:
        logger.warning("card clearing not split", clearing_id=clearing.clearing_id, reason=failure)
    return failure is None


async def get_settlement(context: ReconciliationContext, link_id: str, settlement_id: str) -> SettlementView:
    async with context.unit_of_work() as uow:
        found = await uow.expectations.by_source(CARD_SETTLEMENT_SOURCE, _source_id(link_id, settlement_id))
        if found is None:
            raise NotFoundError(f"No settlement {settlement_id} on link {link_id}.", code="SETTLEMENT_NOT_FOUND")
        return SettlementView(found, await uow.card_clearings.of_settlement(link_id, settlement_id))


async def get_clearing(context: ReconciliationContext, link_id: str, clearing_id: str) -> CardClearing:
    async with context.unit_of_work() as uow:
        found = await uow.card_clearings.get(link_id, clearing_id)
    if found is None:
        raise NotFoundError(f"No clearing {clearing_id} on link {link_id}.", code="CLEARING_NOT_FOUND")
    return found
