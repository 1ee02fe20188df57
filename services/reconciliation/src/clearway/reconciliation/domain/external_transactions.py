"""External transactions: money movements a bank or provider reports on the platform's accounts.

Each is identified by `(processor, transfer_id)`, so a processor's retry never makes a second
one. Every one starts `unmatched`; matching it to what the ledger expected comes later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
EXTERNAL_TRANSACTION_ID_PREFIX = "ext"

Direction = Literal["inbound", "outbound"]


class MatchStatus(StrEnum):
    UNMATCHED = "unmatched"
    MATCHED = "matched"


@dataclass(frozen=True, slots=True)
class RecordExternalTransaction:
    """Command: remember a transfer a processor reports as settled, in either direction."""

    processor: str
    transfer_id: str
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str
    payment_reference: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    settled_at: datetime

    def __post_init__(self) -> None:
        assert self.processor and self.transfer_id, "a transfer is identified by processor and transfer_id"
        assert self.amount_minor >= 0, "amounts are non-negative minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.settled_at.tzinfo is not None, "settled_at must be timezone-aware"


@dataclass(frozen=True, slots=True)
class ExternalTransaction:
    id: str
    processor: str
    transfer_id: str
    direction: Direction
    amount_minor: int
    currency: str
    account_id: str
    payment_reference: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    settled_at: datetime
    status: MatchStatus
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{EXTERNAL_TRANSACTION_ID_PREFIX}_"), f"not an external transaction id: {self.id!r}"
        assert self.amount_minor >= 0, "amounts are non-negative minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "a transaction cannot change before it exists"


def new_external_transaction(
    command: RecordExternalTransaction, *, transaction_id: str, now: datetime
) -> ExternalTransaction:
    return ExternalTransaction(
        id=transaction_id,
        processor=command.processor,
        transfer_id=command.transfer_id,
        direction=command.direction,
        amount_minor=command.amount_minor,
        currency=command.currency,
        account_id=command.account_id,
        payment_reference=command.payment_reference,
        counterparty_name=command.counterparty_name,
        counterparty_account=command.counterparty_account,
        settled_at=command.settled_at,
        status=MatchStatus.UNMATCHED,
        created_at=now,
        updated_at=now,
    )
