"""External transaction use cases: record what an outside party reports (exactly once), import a
bank statement (only what is new), read them back. A new transaction on a link with `auto_match`
starts a matching run for that link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.providers.bank.statements import Statement, StatementFormat, StatementInvalid, parse_statement
from clearway.reconciliation.domain.breaks import unknown_account
from clearway.reconciliation.domain.errors import InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.external_transactions import (
    EXTERNAL_TRANSACTION_ID_PREFIX,
    ExternalTransaction,
    ReconStatus,
    RecordExternalTransaction,
    Source,
    new_external_transaction,
)
from clearway.reconciliation.domain.links import Link
from clearway.reconciliation.service import audit, breaks
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.transactions")
STATEMENT_ID_PREFIX = "stm"


@dataclass(frozen=True, slots=True)
class Recorded:
    transaction: ExternalTransaction | None  # None: the same event or transfer was already recorded
    link: Link | None


async def record_from_event(
    context: ReconciliationContext,
    command: RecordExternalTransaction,
    *,
    consumer: str,
    event_id: str,
    topic: str,
) -> Recorded:
    """The inbox row and the transaction commit together, so a redelivery has no second effect."""
    async with context.unit_of_work() as uow:
        if not await uow.inbox.record_once(consumer, event_id, topic):
            return Recorded(None, None)
        link = await uow.links.by_external_account(command.account_id)
        transaction = new_external_transaction(
            command,
            transaction_id=new_id(EXTERNAL_TRANSACTION_ID_PREFIX),
            link_id=link.id if link else None,
            now=context.clock(),
        )
        added = await uow.external_transactions.add_if_new(transaction)
        if added and link is None:
            await breaks.raise_break(
                uow,
                context,
                unknown_account(
                    command.processor,
                    command.account_id,
                    first_transaction_id=transaction.id,
                    hint="POST /links with this external_account_id adopts its transactions",
                ),
            )
        await uow.commit()
    logger.info(
        "external transaction recorded" if added else "external transaction already known",
        processor=command.processor,
        transfer_id=command.transfer_id,
        link_id=link.id if link else None,
    )
    return Recorded(transaction if added else None, link)


@dataclass(frozen=True, slots=True)
class ImportResult:
    statement_id: str
    imported: int
    skipped_duplicates: int
    statement: Statement


def _booked_at(day: date) -> datetime:
    """Statements give a booking day; noon UTC keeps it that day in every zone the window compares."""
    return datetime.combine(day, time(12, 0), tzinfo=UTC)


async def import_statement(
    context: ReconciliationContext, link_id: str, body: bytes, statement_format: str, *, actor: str
) -> ImportResult:
    """Every line becomes an external transaction on the link; a re-import adds only what is new."""
    try:
        statement = parse_statement(body, StatementFormat(statement_format))
    except (StatementInvalid, ValueError) as error:
        raise InvalidRequestError(str(error), code="STATEMENT_INVALID") from error
    now = context.clock()
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
        if link is None:
            raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
        foreign = {line.currency for line in statement.lines} - {link.currency}
        if foreign:
            raise InvalidRequestError(
                f"Link {link_id} holds {link.currency}; the statement has {', '.join(sorted(foreign))}.",
                code="CURRENCY_MISMATCH",
            )
        account_id = link.external_account_id or link.id
        transactions = [
            new_external_transaction(
                RecordExternalTransaction(
                    processor=f"statement:{link.id}",
                    transfer_id=line.external_id,
                    direction=line.direction,
                    amount_minor=line.amount_minor,
                    currency=line.currency,
                    account_id=account_id,
                    reference=line.reference,
                    booked_at=_booked_at(line.booked_on),
                    description=line.description,
                    source=Source.STATEMENT,
                ),
                transaction_id=new_id(EXTERNAL_TRANSACTION_ID_PREFIX),
                link_id=link.id,
                now=now,
            )
            for line in statement.lines
        ]
        imported = await uow.external_transactions.add_many_if_new(transactions)
        statement_id = new_id(STATEMENT_ID_PREFIX)
        closing = statement.closing_balance
        opening = statement.opening_balance
        await uow.statements.add(
            {
                "id": statement_id,
                "link_id": link.id,
                "format": statement.format.value,
                "statement_id": statement.statement_id,
                "opening_balance_minor": opening.amount_minor if opening else None,
                "closing_balance_minor": closing.amount_minor if closing else None,
                "closing_on": closing.on if closing else None,
                "imported": imported,
                "skipped_duplicates": len(transactions) - imported,
                "imported_by": actor,
                "created_at": now,
            }
        )
        await audit.record(
            uow,
            entity_type="statement",
            entity_id=statement_id,
            action="imported",
            actor=actor,
            at=now,
            link_id=link.id,
            lines=len(transactions),
            imported=imported,
        )
        await uow.commit()
    logger.info("statement imported", link_id=link_id, imported=imported, skipped=len(transactions) - imported)
    return ImportResult(statement_id, imported, len(transactions) - imported, statement)


async def get_transaction(context: ReconciliationContext, transaction_id: str) -> ExternalTransaction:
    async with context.unit_of_work() as uow:
        found = await uow.external_transactions.get(transaction_id)
    if found is None:
        raise NotFoundError(f"No external transaction {transaction_id}.", code="EXTERNAL_TRANSACTION_NOT_FOUND")
    return found


async def list_transactions(
    context: ReconciliationContext,
    *,
    link_id: str | None,
    status: ReconStatus | None,
    unlinked: bool = False,
    starting_after: str | None,
    limit: int,
) -> Sequence[ExternalTransaction]:
    async with context.unit_of_work() as uow:
        return await uow.external_transactions.list(
            link_id=link_id, status=status, unlinked=unlinked, starting_after=starting_after, limit=limit
        )


async def unreconciled_for_account(
    context: ReconciliationContext, ledger_id: str, account_path: str
) -> Sequence[ExternalTransaction]:
    """FRAGMENT's `unreconciledTxs` of a linked ledger account: what its links synced and nobody reconciled."""
    async with context.unit_of_work() as uow:
        links = await uow.links.for_ledger_account(ledger_id, account_path)
        return await uow.external_transactions.unreconciled_for_links([link.id for link in links]) if links else []
