"""External transactions: what really moved on an account outside the platform (a bank statement
line, a processor's settled transfer, a provider's payout), as seed 003's synced transactions.

Each is idempotent by `(link, external id)` (and by `(processor, transfer id)` for events, which may
arrive before their link exists: those stay unlinked and are reported as an `unknown_account` break).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

EXTERNAL_TRANSACTION_ID_PREFIX = "ext"

Direction = Literal["inbound", "outbound"]


class ReconStatus(StrEnum):
    UNRECONCILED = "unreconciled"
    RECONCILED = "reconciled"


class Source(StrEnum):
    EVENT = "event"
    STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class RecordExternalTransaction:
    """Command: remember a movement an outside party reports, in either direction."""

    processor: str
    transfer_id: str  # the processor's own id: with `processor`, what makes a retry the same one
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str  # the outside account it moved on: a link's `external_account_id`
    reference: str | None
    booked_at: datetime
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    description: str | None = None
    source: Source = Source.EVENT

    def __post_init__(self) -> None:
        assert self.processor and self.transfer_id, "a transfer is identified by processor and transfer_id"
        assert self.amount_minor > 0, "amounts are positive minor units; the direction carries the sign"
        assert self.booked_at.tzinfo is not None, "booked_at must be timezone-aware"


@dataclass(frozen=True, slots=True)
class ExternalTransaction:
    id: str
    link_id: str | None
    external_id: str
    processor: str
    transfer_id: str
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str
    reference: str | None
    description: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    booked_at: datetime
    source: Source
    status: ReconStatus
    match_id: str | None
    reconciled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def signed_amount_minor(self) -> int:
        """As the linked cash account sees it: money in is positive."""
        return self.amount_minor if self.direction == "inbound" else -self.amount_minor


def new_external_transaction(
    command: RecordExternalTransaction, *, transaction_id: str, link_id: str | None, now: datetime
) -> ExternalTransaction:
    return ExternalTransaction(
        id=transaction_id,
        link_id=link_id,
        external_id=command.transfer_id,
        processor=command.processor,
        transfer_id=command.transfer_id,
        direction=command.direction,
        amount_minor=command.amount_minor,
        currency=command.currency,
        account_id=command.account_id,
        reference=command.reference,
        description=command.description,
        counterparty_name=command.counterparty_name,
        counterparty_account=command.counterparty_account,
        booked_at=command.booked_at,
        source=command.source,
        status=ReconStatus.UNRECONCILED,
        match_id=None,
        reconciled_at=None,
        created_at=now,
        updated_at=now,
    )
