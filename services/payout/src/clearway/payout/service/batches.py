"""Bank payout batches: the pain.001 file an operator sends to the bank, and the bank's answer.

Issuing the file closes the batch (later bank withdrawals start a new one) and is repeatable: the
same file, with the same message id, comes back. Settling applies each withdrawal's outcome as a
B2C callback would, so the ledger effects are the same code path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.payout.domain.batches import BatchTotals, PayoutBatch
from clearway.payout.domain.errors import InvalidRequestError, NotFoundError
from clearway.payout.domain.withdrawals import NotPaid, PaidOut, Withdrawal, WithdrawalStatus
from clearway.payout.service import payouts
from clearway.payout.service.context import PayoutContext
from clearway.platform.logging import get_logger
from clearway.providers.bank import CreditTransfer, render_pain001

logger = get_logger("clearway.payout.batches")


def sepa_id(our_id: str) -> str:
    """Our ids (`wd_01...`) in the EPC character set, which has no underscore: `wd-01...`."""
    return our_id.replace("_", "-")


@dataclass(frozen=True, slots=True)
class BatchView:
    batch: PayoutBatch
    withdrawals: Sequence[Withdrawal]

    @property
    def total_minor(self) -> int:
        return sum(withdrawal.amount_minor for withdrawal in self.withdrawals)


async def get_batch(context: PayoutContext, batch_id: str) -> BatchView:
    async with context.unit_of_work() as uow:
        batch = await uow.batches.get(batch_id)
        if batch is None:
            raise NotFoundError(f"No payout batch {batch_id}.", code="PAYOUT_BATCH_NOT_FOUND")
        return BatchView(batch, await uow.withdrawals.in_batch(batch_id))


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """A batch in a list: its count and total without its withdrawals."""

    batch: PayoutBatch
    totals: BatchTotals


async def list_batches(context: PayoutContext, *, starting_after: str | None, limit: int) -> Sequence[BatchSummary]:
    async with context.unit_of_work() as uow:
        found = await uow.batches.list(starting_after=starting_after, limit=limit)
        totals = await uow.withdrawals.batch_totals([batch.id for batch in found])
    return [BatchSummary(batch, totals.get(batch.id, BatchTotals())) for batch in found]


async def pain001_file(context: PayoutContext, batch_id: str) -> bytes:
    async with context.unit_of_work() as uow:
        batch = await uow.batches.get(batch_id, for_update=True)
        if batch is None:
            raise NotFoundError(f"No payout batch {batch_id}.", code="PAYOUT_BATCH_NOT_FOUND")
        withdrawals = await uow.withdrawals.in_batch(batch_id)
        transfers = []
        for withdrawal in withdrawals:
            assert withdrawal.withdrawal_method_id is not None
            method = await uow.methods.get(withdrawal.withdrawal_method_id)
            assert method is not None and method.account_holder_name is not None
            transfers.append(
                CreditTransfer(
                    end_to_end_id=sepa_id(withdrawal.id),
                    creditor_name=method.account_holder_name,
                    creditor_iban=method.account_number,
                    creditor_bic=method.bic,
                    amount_minor=withdrawal.amount_minor,
                    currency=withdrawal.currency,
                    remittance_information=f"Withdrawal {withdrawal.id}",
                )
            )
        submitted = batch.submitted(message_id=batch.id, now=context.clock())
        if submitted is not batch:
            await uow.batches.update(submitted)
        await uow.commit()
    assert submitted.submitted_at is not None
    logger.info("pain.001 issued", batch_id=batch_id, transfers=len(transfers))
    return render_pain001(
        message_id=sepa_id(submitted.id),
        debtor=context.bank_debtor,
        execution_date=submitted.submitted_at.date(),
        transfers=transfers,
        created_at=submitted.submitted_at,  # the same file every time it is downloaded
    )


async def settle_batch(
    context: PayoutContext, batch_id: str, *, failed: dict[str, str], bank_reference: str | None
) -> BatchView:
    """The bank executed the file: every withdrawal in it is paid, except those `failed` names
    (withdrawal id -> the bank's reason), whose reservations are released."""
    view = await get_batch(context, batch_id)
    unknown = set(failed) - {withdrawal.id for withdrawal in view.withdrawals}
    if unknown:
        raise InvalidRequestError(
            f"Not in batch {batch_id}: {', '.join(sorted(unknown)[:5])}.", code="WITHDRAWAL_NOT_IN_BATCH"
        )
    async with context.unit_of_work() as uow:
        batch = await uow.batches.get(batch_id, for_update=True)
        assert batch is not None
        settled = batch.settled(context.clock())
        if settled is not batch:
            await uow.batches.update(settled)
            await uow.commit()
    for withdrawal in view.withdrawals:
        if withdrawal.status is not WithdrawalStatus.PROCESSING:
            continue
        reason = failed.get(withdrawal.id)
        outcome = NotPaid("BANK_REJECTED", reason) if reason is not None else PaidOut(receipt=bank_reference)
        await payouts.apply_outcome(context, withdrawal.id, outcome, resolved_by="bank_batch")
    return await get_batch(context, batch_id)
