"""Card-network settlement in three levels (seed 003's batches of batches).

Each day the network sends one settlement file (its total per clearing) and several clearing files
(each clearing's individual card transactions), and the bank receives one payment:

    1. the bank's payment matches the settlement file (an inbound expectation whose items are its
       clearings): `received_card_settlement` reconciles it into the settlement's clearing account;
    2. one `split_card_settlement` per clearing moves its amount to the clearing's clearing account;
    3. once a clearing's file is in and its settlement posted, one `split_card_clearing` per card
       transaction credits its account; the clearing account is then cleared.

The files arrive in any order, so a clearing is one row filled from both sides; it posts when it is
settled, its file is in, and its transactions add up to what the settlement file said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clearway.reconciliation.domain.errors import InvalidRequestError
from clearway.reconciliation.domain.expectations import user_of

CARD_CLEARING_ID_PREFIX = "ccl"
TRANSACTIONS_MAX = 10_000


class ClearingStatus(StrEnum):
    WAITING = "waiting"  # for its file, its settlement, or both
    POSTED = "posted"
    MISMATCH = "mismatch"  # its transactions do not add up to the settlement file's amount: a break


@dataclass(frozen=True, slots=True)
class CardTransaction:
    card_transaction_id: str
    account_path: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class CardClearing:
    id: str
    link_id: str
    clearing_id: str
    settlement_id: str | None
    expected_minor: int | None
    transactions: tuple[CardTransaction, ...] | None
    settled: bool
    status: ClearingStatus
    failure: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def file_total_minor(self) -> int | None:
        return None if self.transactions is None else sum(t.amount_minor for t in self.transactions)

    @property
    def ready(self) -> bool:
        return self.status is ClearingStatus.WAITING and self.settled and self.transactions is not None

    def mismatch(self) -> str | None:
        """Why its file cannot be split against its settlement, or None when it adds up."""
        if self.transactions is None or self.expected_minor is None:
            return None
        if self.file_total_minor != self.expected_minor:
            return (
                f"clearing file {self.clearing_id} adds up to {self.file_total_minor}, "
                f"settlement file {self.settlement_id} says {self.expected_minor}"
            )
        return None


def validate_clearing_file(clearing_id: str, transactions: list[CardTransaction]) -> None:
    if not clearing_id:
        raise InvalidRequestError("clearing_id is required.", code="CLEARING_ID_REQUIRED")
    if not transactions:
        raise InvalidRequestError("A clearing file lists at least one card transaction.", code="CLEARING_EMPTY")
    if len(transactions) > TRANSACTIONS_MAX:
        raise InvalidRequestError(f"At most {TRANSACTIONS_MAX} card transactions per file.", code="CLEARING_TOO_LARGE")
    ids = [t.card_transaction_id for t in transactions]
    if len(set(ids)) != len(ids):
        raise InvalidRequestError(
            "A card transaction appears twice in the file.", code="CLEARING_DUPLICATE_TRANSACTION"
        )
    for transaction in transactions:
        if transaction.amount_minor <= 0:
            raise InvalidRequestError("Card transaction amounts must be positive.", code="INVALID_AMOUNT")
        user_of(transaction.account_path)
