"""Breaks: anything that stays unreconciled or disagrees, stored with enough detail to act on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

BREAK_ID_PREFIX = "brk"


class BreakKind(StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"  # an external transaction on an account no link names
    CLEARING_PENDING_TOO_LONG = "clearing_pending_too_long"
    BALANCE_MISMATCH = "balance_mismatch"  # the cash account's ledger balance != the bank's closing balance
    UNRECONCILED_TOO_LONG = "unreconciled_too_long"
    POSTING_FAILED = "posting_failed"  # the ledger refused a match's entries
    DEPOSIT_NOT_POSTED = "deposit_not_posted"  # a linked funding deposit without its ledger posting
    PAYOUT_NOT_SETTLED = "payout_not_settled"  # a succeeded payout without its external transaction in time
    ORPHAN_HOLD = "orphan_hold"  # an inflight ledger hold no live withdrawal or authorization owns
    CARD_CLEARING_MISMATCH = "card_clearing_mismatch"  # a clearing file that does not add up to its settlement


@dataclass(frozen=True, slots=True)
class DetectedBreak:
    kind: BreakKind
    subject: str  # what it is about (an account, a transaction id): one open break per (kind, subject)
    detail: dict[str, Any]
    link_id: str | None = None


def unknown_account(processor: str, account_id: str, **detail: Any) -> DetectedBreak:
    """Money (or a file about it) on an account no link syncs: one open break per processor and account."""
    return DetectedBreak(
        BreakKind.UNKNOWN_ACCOUNT,
        subject=f"{processor}:{account_id}",
        detail={"account_id": account_id, "processor": processor, **detail},
    )


@dataclass(frozen=True, slots=True)
class Break:
    id: str
    kind: BreakKind
    subject: str
    link_id: str | None
    detail: dict[str, Any]
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
