"""HTTP shapes of reconciliation's resources."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from clearway.platform.pagination import PageParams
from clearway.reconciliation.domain.external_transactions import Direction, ExternalTransaction, MatchStatus


class Counterparty(BaseModel):
    name: str | None
    account: str | None


class ExternalTransactionOut(BaseModel):
    id: str
    status: MatchStatus
    processor: str
    transfer_id: str
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str
    payment_reference: str | None
    counterparty: Counterparty
    settled_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, transaction: ExternalTransaction) -> ExternalTransactionOut:
        return cls(
            id=transaction.id,
            status=transaction.status,
            processor=transaction.processor,
            transfer_id=transaction.transfer_id,
            direction=transaction.direction,
            amount_minor=transaction.amount_minor,
            currency=transaction.currency,
            account_id=transaction.account_id,
            payment_reference=transaction.payment_reference,
            counterparty=Counterparty(name=transaction.counterparty_name, account=transaction.counterparty_account),
            settled_at=transaction.settled_at,
            created_at=transaction.created_at,
            updated_at=transaction.updated_at,
        )


class ExternalTransactionListParams(PageParams):
    status: MatchStatus | None = None
