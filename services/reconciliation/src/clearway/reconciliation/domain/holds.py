"""Inflight ledger holds and their owners: when a hold is an orphan (the `orphan_hold` break).

A hold reserves money for another service's workflow, and its reference names that service:
payout's withdrawals hold under `payout:<withdrawal id>:hold`; funding's pay-from-balance under
`funding:payable:<payable id>:hold:<attempt>`, committed in the same call that places it;
authorization (issue 10) will hold under a prefix of its own and register a checker for it. A hold
still holding money is an orphan when its workflow is missing or has ended, or when no owner is
registered for its reference: nobody is going to commit or void it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from clearway.platform.ledger import LedgerHold
from clearway.reconciliation.domain.breaks import BreakKind, DetectedBreak

UNREGISTERED = "unregistered"  # the owner status of a hold whose reference no owner claims


class Liveness(StrEnum):
    LIVE = "live"  # the workflow still needs the money held
    ENDED = "ended"  # it finished: its hold should have been committed or voided
    MISSING = "missing"  # the owner has no such workflow
    UNKNOWN = "unknown"  # the owner could not say: unreachable, or a status we do not know


@dataclass(frozen=True, slots=True)
class OwnerAnswer:
    liveness: Liveness
    status: str | None = None  # the owner's own word for it ("processing", "failed")
    changed_at: datetime | None = None  # when that status was reached, if the owner says


class HoldVerdict(StrEnum):
    YOUNG = "young"  # inside the grace period: the owner's row may commit just after its hold
    SETTLED = "settled"  # committed or voided in full: nothing is held
    LIVE = "live"
    SETTLING = "settling"  # the owner ended inside the grace period: the commit or void follows its decision
    UNVERIFIED = "unverified"  # nobody could say: the owner is not configured here, unreachable or unclear
    ORPHANED = "orphaned"


def is_young(hold: LedgerHold, *, now: datetime, grace: timedelta) -> bool:
    return now - hold.created_at < grace


def judge_owner(answer: OwnerAnswer, *, now: datetime, grace: timedelta) -> HoldVerdict:
    """The verdict on a hold that still holds money, from its owner's answer."""
    if answer.liveness is Liveness.LIVE:
        return HoldVerdict.LIVE
    if answer.liveness is Liveness.UNKNOWN:
        return HoldVerdict.UNVERIFIED
    if answer.liveness is Liveness.ENDED and answer.changed_at is not None and now - answer.changed_at < grace:
        return HoldVerdict.SETTLING
    return HoldVerdict.ORPHANED


def orphan_hold_break(
    hold: LedgerHold,
    *,
    remaining_minor: int,
    owner: str | None,
    owner_id: str | None,
    answer: OwnerAnswer | None,
    now: datetime,
) -> DetectedBreak:
    """What an operator needs to settle the hold by hand (void it, or commit it for a paid workflow)."""
    assert 0 < remaining_minor <= hold.amount_minor, (remaining_minor, hold.amount_minor)
    if answer is None:
        owner_status = UNREGISTERED
    elif answer.liveness is Liveness.MISSING:
        owner_status = Liveness.MISSING.value
    else:
        owner_status = answer.status or answer.liveness.value
    return DetectedBreak(
        BreakKind.ORPHAN_HOLD,
        subject=hold.transaction_id,
        detail={
            "transaction_id": hold.transaction_id,
            "reference": hold.reference,
            "amount_minor": hold.amount_minor,
            "remaining_minor": remaining_minor,
            "currency": hold.currency,
            "source": hold.source,
            "destination": hold.destination,
            "created_at": hold.created_at.isoformat(),
            "age_s": int((now - hold.created_at).total_seconds()),
            "owner": owner,
            "owner_id": owner_id,
            "owner_status": owner_status,
        },
    )
