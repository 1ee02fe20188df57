"""The orphan-hold check without I/O: the owner registry, the verdict on each hold (young, settled,
live, settling, unverified, orphaned) against an in-memory ledger and owners, the bounded sweep
that continues where the last pass stopped, and payout's withdrawal statuses as owner answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from clearway.platform.ledger import LedgerHold, LedgerUnavailableError
from clearway.reconciliation.adapters.owner_clients import AUTHORIZATION, owner_answer, withdrawal_answer
from clearway.reconciliation.domain.breaks import BreakKind
from clearway.reconciliation.domain.holds import HoldVerdict, Liveness, OwnerAnswer, judge_owner
from clearway.reconciliation.service.orphan_holds import HoldOwner, HoldOwners, HoldScan, OrphanHoldSweep

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GRACE_S = 60
OLD = NOW - timedelta(seconds=GRACE_S + 1)


def hold(reference: str, *, created_at: datetime = OLD, amount_minor: int = 5_000, tid: str = "") -> LedgerHold:
    return LedgerHold(
        transaction_id=tid or f"txn_{reference}",
        reference=reference,
        amount_minor=amount_minor,
        currency="KES",
        source="bln_wallet",
        destination="bln_clearing",
        created_at=created_at,
    )


@dataclass
class InMemoryLedger:
    """Holds newest first, as the ledger lists them; what each still holds (default: all of it)."""

    holds: list[LedgerHold]
    remaining: dict[str, int] = field(default_factory=dict)
    unavailable: set[str] = field(default_factory=set)
    pages: list[tuple[int, int]] = field(default_factory=list)

    async def inflight_holds(self, *, limit: int, offset: int) -> list[LedgerHold]:
        self.pages.append((limit, offset))
        return self.holds[offset : offset + limit]

    async def hold_remaining_minor(self, found: LedgerHold) -> int:
        if found.transaction_id in self.unavailable:
            raise LedgerUnavailableError("ledger down")
        return self.remaining.get(found.transaction_id, found.amount_minor)


@dataclass
class InMemoryOwner:
    """An owner's workflows by id; an id it does not know is missing."""

    answers: dict[str, OwnerAnswer] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    in_flight: int = 0
    in_flight_max: int = 0

    async def check(self, owner_id: str) -> OwnerAnswer:
        self.asked.append(owner_id)
        self.in_flight += 1
        self.in_flight_max = max(self.in_flight_max, self.in_flight)
        await asyncio.sleep(0)  # let the others start: the bound is what stops them
        self.in_flight -= 1
        return self.answers.get(owner_id, OwnerAnswer(Liveness.MISSING))


async def scan(ledger: InMemoryLedger, owners: HoldOwners) -> HoldScan:
    return await OrphanHoldSweep(ledger, owners).scan(now=NOW, grace_s=GRACE_S, holds_max=500, concurrent_max=4)


def test_the_registry_picks_the_longest_prefix_and_reads_the_owner_id() -> None:
    payout = HoldOwner("payout", "payout:", None)
    special = HoldOwner("payout-batches", "payout:batch:", None)
    owners = HoldOwners((payout, special))
    assert owners.owner_of("payout:wd_1:hold") is payout
    assert owners.owner_of("payout:batch:b1:hold") is special
    assert owners.owner_of("funding:payable:pay_1:hold:1") is None
    assert payout.owner_id("payout:wd_1:hold") == "wd_1"
    with pytest.raises(AssertionError):
        HoldOwners((payout, HoldOwner("again", "payout:", None)))


def test_an_owner_that_ended_is_judged_only_after_the_grace_period() -> None:
    grace = timedelta(seconds=GRACE_S)
    ended_long_ago = OwnerAnswer(Liveness.ENDED, "failed", NOW - timedelta(hours=1))
    ended_just_now = OwnerAnswer(Liveness.ENDED, "failed", NOW - timedelta(seconds=5))
    assert judge_owner(OwnerAnswer(Liveness.LIVE, "processing"), now=NOW, grace=grace) is HoldVerdict.LIVE
    assert judge_owner(ended_just_now, now=NOW, grace=grace) is HoldVerdict.SETTLING
    assert judge_owner(ended_long_ago, now=NOW, grace=grace) is HoldVerdict.ORPHANED
    assert judge_owner(OwnerAnswer(Liveness.MISSING), now=NOW, grace=grace) is HoldVerdict.ORPHANED
    assert judge_owner(OwnerAnswer(Liveness.UNKNOWN, "http_503"), now=NOW, grace=grace) is HoldVerdict.UNVERIFIED


async def test_each_hold_gets_its_verdict_and_only_orphans_are_reported() -> None:
    holds = [
        hold("payout:wd_young:hold", created_at=NOW - timedelta(seconds=5)),
        hold("payout:wd_paid:hold"),
        hold("payout:wd_live:hold"),
        hold("payout:wd_failing:hold"),
        hold("payout:wd_failed:hold", amount_minor=7_000),
        hold("payout:wd_gone:hold"),
        hold("payout:wd_unclear:hold"),
        hold("payout:wd_ledger_down:hold"),
        hold("funding:payable:pay_1:hold:1"),
    ]
    ledger = InMemoryLedger(
        holds,
        remaining={"txn_payout:wd_paid:hold": 0, "txn_payout:wd_failed:hold": 2_000},
        unavailable={"txn_payout:wd_ledger_down:hold"},
    )
    payout = InMemoryOwner(
        {
            "wd_live": OwnerAnswer(Liveness.LIVE, "pending_approval"),
            "wd_failing": OwnerAnswer(Liveness.ENDED, "failed", NOW - timedelta(seconds=3)),
            "wd_failed": OwnerAnswer(Liveness.ENDED, "failed", NOW - timedelta(hours=2)),
            "wd_unclear": OwnerAnswer(Liveness.UNKNOWN, "unreachable"),
        }
    )
    found = await scan(ledger, HoldOwners((HoldOwner("payout", "payout:", payout.check),)))

    assert found.checked == {
        "inflight_holds": 9,
        "holds_young": 1,
        "holds_settled": 1,
        "holds_live": 1,
        "holds_settling": 1,
        "holds_unverified": 2,
        "holds_orphaned": 3,
    }
    # Young and settled holds never reach the owner.
    assert sorted(payout.asked) == ["wd_failed", "wd_failing", "wd_gone", "wd_live", "wd_unclear"]
    by_reference = {finding.detail["reference"]: finding for finding in found.findings}
    assert set(by_reference) == {"payout:wd_failed:hold", "payout:wd_gone:hold", "funding:payable:pay_1:hold:1"}
    failed = by_reference["payout:wd_failed:hold"]
    assert failed.kind is BreakKind.ORPHAN_HOLD and failed.subject == "txn_payout:wd_failed:hold"
    assert failed.detail == {
        "transaction_id": "txn_payout:wd_failed:hold",
        "reference": "payout:wd_failed:hold",
        "amount_minor": 7_000,
        "remaining_minor": 2_000,
        "currency": "KES",
        "source": "bln_wallet",
        "destination": "bln_clearing",
        "created_at": OLD.isoformat(),
        "age_s": GRACE_S + 1,
        "owner": "payout",
        "owner_id": "wd_failed",
        "owner_status": "failed",
    }
    assert by_reference["payout:wd_gone:hold"].detail["owner_status"] == "missing"
    unclaimed = by_reference["funding:payable:pay_1:hold:1"].detail
    assert (unclaimed["owner"], unclaimed["owner_id"], unclaimed["owner_status"]) == (None, None, "unregistered")


async def test_an_owner_with_nobody_to_ask_leaves_its_holds_unverified() -> None:
    ledger = InMemoryLedger([hold("payout:wd_1:hold"), hold("payout:wd_2:hold")])
    found = await scan(ledger, HoldOwners((HoldOwner("payout", "payout:", None),)))
    assert found.findings == []
    assert (found.checked["holds_unverified"], found.checked["holds_orphaned"]) == (2, 0)


async def test_no_registered_owner_makes_every_open_hold_an_orphan() -> None:
    ledger = InMemoryLedger([hold("authorization:auth_1:hold"), hold("payout:wd_1:hold")])
    found = await scan(ledger, HoldOwners())
    assert [finding.detail["owner_status"] for finding in found.findings] == ["unregistered", "unregistered"]


async def test_a_pass_is_bounded_and_the_next_one_continues_then_wraps_to_the_newest() -> None:
    holds = [hold(f"payout:wd_{index:03d}:hold") for index in range(250)]
    ledger = InMemoryLedger(holds)
    owner = InMemoryOwner({f"wd_{index:03d}": OwnerAnswer(Liveness.LIVE, "approved") for index in range(250)})
    sweep = OrphanHoldSweep(ledger, HoldOwners((HoldOwner("payout", "payout:", owner.check),)))

    first = await sweep.scan(now=NOW, grace_s=GRACE_S, holds_max=120, concurrent_max=3)
    assert first.checked["inflight_holds"] == 120 and ledger.pages == [(100, 0), (20, 100)]
    assert owner.in_flight_max == 3  # concurrent, and bounded
    second = await sweep.scan(now=NOW, grace_s=GRACE_S, holds_max=120, concurrent_max=3)
    assert second.checked["inflight_holds"] == 120 and sweep.offset == 240
    third = await sweep.scan(now=NOW, grace_s=GRACE_S, holds_max=120, concurrent_max=3)
    assert third.checked["inflight_holds"] == 10 and sweep.offset == 0  # the oldest reached: back to the newest
    assert sorted(owner.asked) == sorted(f"wd_{index:03d}" for index in range(250))


@pytest.mark.parametrize(
    ("status", "liveness"),
    [
        ("reserving", Liveness.LIVE),
        ("pending_approval", Liveness.LIVE),
        ("approved", Liveness.LIVE),
        ("processing", Liveness.LIVE),
        ("succeeded", Liveness.ENDED),
        ("failed", Liveness.ENDED),
        ("rejected", Liveness.ENDED),
        ("reversed", Liveness.ENDED),
        ("paused_by_new_rule", Liveness.UNKNOWN),
    ],
)
def test_payouts_withdrawal_statuses_as_owner_answers(status: str, liveness: Liveness) -> None:
    updated_at = "2026-11-29T11:00:00+00:00"
    answer = withdrawal_answer({"withdrawal": {"id": "wd_1", "status": status, "updated_at": updated_at}})
    assert (answer.liveness, answer.status) == (liveness, status)
    if liveness is Liveness.ENDED:
        assert answer.changed_at == datetime(2026, 11, 29, 11, 0, tzinfo=UTC)


def test_an_unreadable_withdrawal_is_no_verdict() -> None:
    assert withdrawal_answer({"detail": "?"}).liveness is Liveness.UNKNOWN
    assert withdrawal_answer({"withdrawal": {"status": "failed"}}).liveness is Liveness.UNKNOWN  # no updated_at
    naive = {"withdrawal": {"status": "failed", "updated_at": "2026-11-29T11:00:00"}}
    assert withdrawal_answer(naive).liveness is Liveness.UNKNOWN


@pytest.mark.parametrize(
    ("status", "liveness"),
    [
        ("pending", Liveness.LIVE),
        ("approved", Liveness.LIVE),
        ("clearing", Liveness.LIVE),
        ("expiring", Liveness.LIVE),
        ("declined", Liveness.ENDED),
        ("reversed", Liveness.ENDED),
        ("cleared", Liveness.ENDED),
        ("expired", Liveness.ENDED),
    ],
)
def test_authorizations_statuses_as_owner_answers(status: str, liveness: Liveness) -> None:
    answer = owner_answer(AUTHORIZATION, {"id": "cau_1", "status": status, "updated_at": "2026-11-29T11:00:00+00:00"})
    assert (answer.liveness, answer.status) == (liveness, status)
