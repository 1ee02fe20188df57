"""Batches: outbound payments sent as one settlement (seed 003's batch send).

A batch is formed before the bank settles it: each member payment's `prepare_batch` moves its
pending clearing account into the batch's. A member cancelled after joining reverses its
`prepare_batch` and `initiate_payment`; the batch then settles for what is left. The bank's
settlement names the batch by its reference (one open batch per reference on a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clearway.reconciliation.domain.errors import InvalidRequestError

BATCH_ID_PREFIX = "bat"
MEMBERS_MAX = 1_000


class BatchStatus(StrEnum):
    OPEN = "open"  # formed; waiting for the bank's settlement
    SETTLED = "settled"  # its settlement is matched


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    link_id: str
    reference: str
    currency: str
    status: BatchStatus
    created_by: str
    created_at: datetime
    updated_at: datetime


def prepare_ik(batch_id: str, expectation_id: str) -> str:
    """The ik of a member's `prepare_batch`: posting it again (the settlement, a retry) is a replay,
    and a cancellation can post-then-reverse it without caring whether the batch's post came first."""
    return f"recon:{batch_id}:prepare:{expectation_id}"


def validate_members(expectation_ids: list[str]) -> None:
    if not expectation_ids:
        raise InvalidRequestError("A batch needs at least one payment.", code="BATCH_EMPTY")
    if len(expectation_ids) > MEMBERS_MAX:
        raise InvalidRequestError(f"At most {MEMBERS_MAX} payments per batch.", code="BATCH_TOO_LARGE")
    if len(set(expectation_ids)) != len(expectation_ids):
        raise InvalidRequestError("A payment appears twice in the batch.", code="BATCH_DUPLICATE_MEMBER")
