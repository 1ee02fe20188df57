"""The orphan-hold check: every inflight hold in the ledger belongs to a live workflow of its owner.

Owners are a registry, prefix -> checker, wired in `main.py`: payout's withdrawals today;
authorization registers its own prefix when it holds money. A hold whose reference no owner claims
is an orphan (funding's holds included: funding commits each in the call that places it, so one
still open past the grace period is stuck). An owner registered without a checker (payout's URL
not configured) leaves its holds unverified: a hold is never reported on a question nobody asked.

One pass examines at most `holds_max` holds, newest first, and the next pass continues where it
stopped, wrapping to the newest when it reaches the oldest: the ledger lists every hold ever placed
(a settled hold stays INFLIGHT), so old holds are covered over several passes, not one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from clearway.platform.ledger import LedgerHold, LedgerRefusedError, LedgerUnavailableError
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.breaks import DetectedBreak
from clearway.reconciliation.domain.holds import (
    HoldVerdict,
    Liveness,
    OwnerAnswer,
    is_young,
    judge_owner,
    orphan_hold_break,
)

logger = get_logger("clearway.reconciliation.orphan_holds")

# The ledger answers at most this many holds per page.
HOLDS_PAGE_MAX = 100


class HoldLedger(Protocol):
    async def inflight_holds(self, *, limit: int, offset: int) -> list[LedgerHold]: ...

    async def hold_remaining_minor(self, hold: LedgerHold) -> int: ...


# Is the owner's workflow with this id still live? Answers UNKNOWN, never raises, when it cannot say.
OwnerCheck = Callable[[str], Awaitable[OwnerAnswer]]


@dataclass(frozen=True, slots=True)
class HoldOwner:
    name: str  # "payout"
    prefix: str  # "payout:"; the reference's next segment is the owner's id
    check: OwnerCheck | None  # None: known, but nobody here to ask

    def owner_id(self, reference: str) -> str:
        assert reference.startswith(self.prefix), (reference, self.prefix)
        return reference[len(self.prefix) :].split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class HoldOwners:
    owners: tuple[HoldOwner, ...] = ()

    def __post_init__(self) -> None:
        prefixes = [owner.prefix for owner in self.owners]
        assert all(prefixes) and len(set(prefixes)) == len(prefixes), f"one owner per prefix: {prefixes}"

    def owner_of(self, reference: str) -> HoldOwner | None:
        """The owner with the longest prefix of `reference`, if any claims it."""
        claims = [owner for owner in self.owners if reference.startswith(owner.prefix)]
        return max(claims, key=lambda owner: len(owner.prefix), default=None)


@dataclass(frozen=True, slots=True)
class HoldScan:
    findings: list[DetectedBreak]
    checked: dict[str, int]  # `inflight_holds` examined, and `holds_<verdict>` for each verdict


@dataclass(slots=True)
class OrphanHoldSweep:
    ledger: HoldLedger
    owners: HoldOwners
    offset: int = 0  # where the next pass starts, in the ledger's newest-first order

    async def scan(self, *, now: datetime, grace_s: int, holds_max: int, concurrent_max: int) -> HoldScan:
        """One bounded pass; a ledger that cannot list holds raises (the next pass asks again)."""
        assert grace_s >= 0 and holds_max >= 1 and concurrent_max >= 1
        grace = timedelta(seconds=grace_s)
        gate = asyncio.Semaphore(concurrent_max)  # bounds the questions to the ledger and the owners

        async def examine(hold: LedgerHold) -> tuple[HoldVerdict, DetectedBreak | None]:
            async with gate:
                return await self._examine(hold, now=now, grace=grace)

        findings: list[DetectedBreak] = []
        checked = {"inflight_holds": 0} | {f"holds_{verdict}": 0 for verdict in HoldVerdict}
        offset = self.offset
        for _page in range(math.ceil(holds_max / HOLDS_PAGE_MAX)):
            limit = min(HOLDS_PAGE_MAX, holds_max - checked["inflight_holds"])
            holds = await self.ledger.inflight_holds(limit=limit, offset=offset)
            for verdict, finding in await asyncio.gather(*(examine(hold) for hold in holds)):
                checked[f"holds_{verdict}"] += 1
                if finding is not None:
                    findings.append(finding)
            checked["inflight_holds"] += len(holds)
            offset += len(holds)
            if len(holds) < limit:
                offset = 0  # the oldest is behind us: the next pass starts at the newest again
                break
        self.offset = offset
        return HoldScan(findings, checked)

    async def _examine(
        self, hold: LedgerHold, *, now: datetime, grace: timedelta
    ) -> tuple[HoldVerdict, DetectedBreak | None]:
        if is_young(hold, now=now, grace=grace):
            return HoldVerdict.YOUNG, None
        try:
            remaining_minor = await self.ledger.hold_remaining_minor(hold)
        except (LedgerUnavailableError, LedgerRefusedError) as error:
            logger.warning("hold not verified", transaction_id=hold.transaction_id, error=str(error))
            return HoldVerdict.UNVERIFIED, None
        if remaining_minor == 0:
            return HoldVerdict.SETTLED, None
        owner = self.owners.owner_of(hold.reference)
        if owner is None:
            orphan = orphan_hold_break(
                hold, remaining_minor=remaining_minor, owner=None, owner_id=None, answer=None, now=now
            )
            return HoldVerdict.ORPHANED, orphan
        if owner.check is None:
            return HoldVerdict.UNVERIFIED, None
        owner_id = owner.owner_id(hold.reference)
        answer = await owner.check(owner_id) if owner_id else OwnerAnswer(Liveness.MISSING)
        verdict = judge_owner(answer, now=now, grace=grace)
        if verdict is not HoldVerdict.ORPHANED:
            return verdict, None
        orphan = orphan_hold_break(
            hold, remaining_minor=remaining_minor, owner=owner.name, owner_id=owner_id, answer=answer, now=now
        )
        return verdict, orphan
