"""Deposits: money that settled on one of the platform's accounts, waiting to be linked to a funding.

A processor reports each settlement once per `(processor, transfer_id)`; that pair is the
deposit's natural key, so a processor's retry can never create a second deposit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
DEPOSIT_ID_PREFIX = "dep"

Direction = Literal["inbound", "outbound"]


class DepositStatus(StrEnum):
    UNLINKED = "unlinked"
    LINKED = "linked"


@dataclass(frozen=True, slots=True)
class RecordSettledTransfer:
    """Command: remember a transfer a processor reports as settled."""

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

    @property
    def is_deposit(self) -> bool:
        """Only money arriving on a platform account can fund anything."""
        return self.direction == "inbound"


@dataclass(frozen=True, slots=True)
class Deposit:
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
    linked_funding_id: str | None
    created_at: datetime
    updated_at: datetime
    # Set when the payment reference names an invoice: a suggestion, not a link.
    proposed_funding_id: str | None = None

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{DEPOSIT_ID_PREFIX}_"), f"not a deposit id: {self.id!r}"
        assert self.amount_minor >= 0, "amounts are non-negative minor units"
        assert CURRENCY_PATTERN.match(self.currency), f"not an ISO 4217 code: {self.currency!r}"
        assert self.updated_at >= self.created_at, "a deposit cannot change before it exists"

    @property
    def status(self) -> DepositStatus:
        return DepositStatus.UNLINKED if self.linked_funding_id is None else DepositStatus.LINKED


@dataclass(frozen=True, slots=True)
class LinkReconciledTransfer:
    """Command: reconciliation matched a settled transfer to these fundings; link its deposit."""

    transfer_id: str
    match_id: str
    funding_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        assert self.transfer_id and self.match_id, "a reconciled link names its transfer and its match"
        assert len(set(self.funding_ids)) == len(self.funding_ids), "each funding is named once"


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A link reconciliation asked for before the deposit was recorded; applied once it is."""

    transfer_id: str
    funding_id: str
    match_id: str
    created_at: datetime


def new_deposit(command: RecordSettledTransfer, *, deposit_id: str, now: datetime) -> Deposit:
    assert command.is_deposit, "only inbound transfers become deposits"
    return Deposit(
        id=deposit_id,
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
        linked_funding_id=None,
        created_at=now,
        updated_at=now,
    )
