"""Bank payouts go out in batches: approved bank withdrawals gather in the currency's open batch,
which an operator downloads as a SEPA pain.001 file (that closes it) and later settles."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from clearway.payout.domain.errors import ConflictError

PAYOUT_BATCH_ID_PREFIX = "pob"


class BatchStatus(StrEnum):
    OPEN = "open"  # still taking withdrawals
    SUBMITTED = "submitted"  # its pain.001 was issued; waiting for the bank
    SETTLED = "settled"  # every withdrawal in it has an outcome


@dataclass(frozen=True, slots=True)
class BatchTotals:
    """How many withdrawals a batch holds and their sum, in the batch's currency."""

    count: int = 0
    total_minor: int = 0

    def __post_init__(self) -> None:
        assert self.count >= 0 and self.total_minor >= 0
        assert self.count or not self.total_minor, "an empty batch sums to nothing"


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    id: str
    currency: str
    status: BatchStatus
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    message_id: str | None = None

    def submitted(self, message_id: str, now: datetime) -> PayoutBatch:
        if self.status is not BatchStatus.OPEN:
            return self  # the file is re-issued as it was: same message id
        return replace(
            self,
            status=BatchStatus.SUBMITTED,
            message_id=message_id,
            submitted_at=now,
            updated_at=max(now, self.created_at),
        )

    def settled(self, now: datetime) -> PayoutBatch:
        if self.status is BatchStatus.SETTLED:
            return self  # settling again finishes what an interrupted settlement left
        if self.status is not BatchStatus.SUBMITTED:
            raise ConflictError(
                f"Payout batch {self.id} is {self.status.value}; only a submitted batch is settled.",
                code="ILLEGAL_STATE_TRANSITION",
                current_status=self.status.value,
            )
        return replace(self, status=BatchStatus.SETTLED, updated_at=max(now, self.created_at))
