"""HTTP shapes of deposits."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from clearway.funding.domain.deposits import Deposit, DepositStatus, Direction
from clearway.platform.pagination import PageParams


class Counterparty(BaseModel):
    name: str | None
    account: str | None


class DepositOut(BaseModel):
    id: str
    status: DepositStatus
    processor: str
    transfer_id: str
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str
    payment_reference: str | None
    counterparty: Counterparty
    settled_at: datetime
    linked_funding_id: str | None
    proposed_funding_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, deposit: Deposit) -> DepositOut:
        return cls(
            id=deposit.id,
            status=deposit.status,
            processor=deposit.processor,
            transfer_id=deposit.transfer_id,
            direction=deposit.direction,
            amount_minor=deposit.amount_minor,
            currency=deposit.currency,
            account_id=deposit.account_id,
            payment_reference=deposit.payment_reference,
            counterparty=Counterparty(name=deposit.counterparty_name, account=deposit.counterparty_account),
            settled_at=deposit.settled_at,
            linked_funding_id=deposit.linked_funding_id,
            proposed_funding_id=deposit.proposed_funding_id,
            created_at=deposit.created_at,
            updated_at=deposit.updated_at,
        )


class DepositListParams(PageParams):
    linked: bool | None = None
