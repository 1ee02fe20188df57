"""All of the card accounts' SQL. Rows come out as domain objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.authorization.adapters.orm import CardAccountRow
from clearway.authorization.domain.card_accounts import CardAccount, CardAccountStatus, CardAccountTerms
from clearway.authorization.domain.repayment_references import BODY_ID_CHARACTERS, id_tail_of, repayment_reference_for
from clearway.platform.timestamps import repaired_updated_at


def _card_account(row: CardAccountRow) -> CardAccount:
    return CardAccount(
        id=row.id,
        identity_id=row.identity_id,
        currency=row.currency,
        terms=CardAccountTerms(
            credit_limit_minor=row.credit_limit_minor,
            billing_cycle_day=row.billing_cycle_day,
            payment_due_days=row.payment_due_days,
            fee_markup_bps=row.fee_markup_bps,
            pending_interest_rate_bps=row.pending_interest_rate_bps,
            overdue_interest_rate_bps=row.overdue_interest_rate_bps,
        ),
        status=CardAccountStatus(row.status),
        ledger_id=row.ledger_id,
        balance_ids=MappingProxyType({str(key): str(value) for key, value in (row.balance_ids or {}).items()}),
        created_at=row.created_at,
        updated_at=repaired_updated_at("card account", row.id, row.created_at, row.updated_at),
    )


class SqlCardAccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: CardAccount) -> None:
        terms = account.terms
        self._session.add(
            CardAccountRow(
                id=account.id,
                identity_id=account.identity_id,
                currency=account.currency,
                credit_limit_minor=terms.credit_limit_minor,
                status=account.status.value,
                ledger_id=account.ledger_id,
                billing_cycle_day=terms.billing_cycle_day,
                payment_due_days=terms.payment_due_days,
                fee_markup_bps=terms.fee_markup_bps,
                pending_interest_rate_bps=terms.pending_interest_rate_bps,
                overdue_interest_rate_bps=terms.overdue_interest_rate_bps,
                balance_ids=dict(account.balance_ids),
                created_at=account.created_at,
                updated_at=account.updated_at,
            )
        )
        await self._session.flush()

    async def get(self, card_account_id: str, *, for_update: bool = False) -> CardAccount | None:
        query = select(CardAccountRow).where(CardAccountRow.id == card_account_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return _card_account(row) if row is not None else None

    async def get_by_repayment_reference(self, repayment_reference: str) -> CardAccount | None:
        """The account whose id the reference was computed from (`ix_card_accounts_id_tail`)."""
        tail = id_tail_of(repayment_reference)
        if tail is None:
            return None
        query = select(CardAccountRow).where(func.right(CardAccountRow.id, BODY_ID_CHARACTERS) == tail).limit(2)
        rows = [
            row for row in await self._session.scalars(query) if repayment_reference_for(row.id) == repayment_reference
        ]
        # Two accounts sharing 19 characters of ULID (80 random bits) would make the reference ambiguous: no one.
        return _card_account(rows[0]) if len(rows) == 1 else None

    async def update(self, account: CardAccount) -> None:
        # Terms do not change after opening (no such use case yet): status, ledger and balances do.
        await self._session.execute(
            update(CardAccountRow)
            .where(CardAccountRow.id == account.id)
            .values(
                status=account.status.value,
                ledger_id=account.ledger_id,
                balance_ids=dict(account.balance_ids),
                updated_at=account.updated_at,
            )
        )

    async def list(self, *, identity_id: str | None, starting_after: str | None, limit: int) -> Sequence[CardAccount]:
        query = select(CardAccountRow).order_by(CardAccountRow.id).limit(limit)
        if starting_after is not None:
            query = query.where(CardAccountRow.id > starting_after)
        if identity_id is not None:
            query = query.where(CardAccountRow.identity_id == identity_id)
        rows = await self._session.scalars(query)
        return [_card_account(row) for row in rows]

    async def opening_older_than(self, moment: datetime, limit: int) -> Sequence[CardAccount]:
        query = (
            select(CardAccountRow)
            .where(CardAccountRow.status == CardAccountStatus.OPENING.value, CardAccountRow.updated_at < moment)
            .order_by(CardAccountRow.updated_at)
            .limit(limit)
        )
        return [_card_account(row) for row in await self._session.scalars(query)]
