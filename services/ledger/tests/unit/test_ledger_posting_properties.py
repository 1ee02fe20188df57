"""Property tests of the posting engine: random sequences of ledger operations keep the books.

A Hypothesis state machine drives `domain/posting.py` with transfers, splits, holds, partial
commits, voids, refunds and deliberate rejections over a few balances in two currencies,
keeping every entry line it is handed in an in-memory journal. After every step it checks:
per currency and bucket, debits equal credits; each balance equals the sums of its journal
lines; balance = credit - debit; inflight columns equal what the open holds still keep; no
balance is below what its overdraft policy allows. A rejected operation must leave every
balance byte-identical and write no line.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import defaultdict
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.distribution import Distribution, Leg, split_amount
from clearway.ledger.domain.errors import InvalidRequest
from clearway.ledger.domain.posting import (
    Bucket,
    EntryLine,
    Hold,
    Posting,
    Status,
    apply_posting,
    commit_hold,
    lines_balance,
    reversal_of,
    void_hold,
)

CURRENCY_PRECISION = 100
UNLIMITED = None  # an overdraft policy: None = no limit, an int = available may fall to -limit
STRICT = -1  # no overdraft at all (allow_overdraft=False)
# balance id -> (currency, overdraft policy). "@World" balances are the seed's unlimited sources.
BALANCES: dict[str, tuple[str, int | None]] = {
    "@World-USD": ("USD", UNLIMITED),
    "usd-strict-a": ("USD", STRICT),
    "usd-strict-b": ("USD", STRICT),
    "usd-limit-5000": ("USD", 5_000),
    "usd-limit-0": ("USD", 0),
    "@World-EUR": ("EUR", UNLIMITED),
    "eur-strict": ("EUR", STRICT),
    "eur-limit-2000": ("EUR", 2_000),
}
CUSTOMERS = [balance_id for balance_id in BALANCES if not balance_id.startswith("@")]
ALL_IDS = list(BALANCES)

amounts = st.integers(min_value=1, max_value=20_000)


def strictest(policies: list[int | None]) -> int | None:
    """The one policy a posting may carry so that none of its sources breaks its own policy."""
    if STRICT in policies:
        return STRICT
    limits = [policy for policy in policies if policy is not None]
    return min(limits) if limits else UNLIMITED


def posting_for(
    transaction_id: str, currency: str, debits: list[Leg], credits: list[Leg], *, inflight: bool = False
) -> Posting:
    policy = strictest([BALANCES[leg.identifier][1] for leg in debits])
    return Posting(
        transaction_id=transaction_id,
        currency=currency,
        debits=tuple(debits),
        credits=tuple(credits),
        inflight=inflight,
        allow_overdraft=policy != STRICT,
        overdraft_limit_minor=None if policy in (STRICT, UNLIMITED) else policy,
    )


def major_text(amount_minor: int) -> str:
    return str(Decimal(amount_minor).scaleb(-2))


def label_event(label: str) -> None:
    """Coverage statistics (`--hypothesis-show-statistics`); a no-op outside a Hypothesis run."""
    with contextlib.suppress(InvalidArgument):
        event(label)


def snapshot(balances: dict[str, BalanceState]) -> list[tuple[object, ...]]:
    """Every field of every balance, including the ones equality ignores."""
    return [dataclasses.astuple(balances[balance_id]) for balance_id in sorted(balances)]


class PostingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.balances = {
            balance_id: BalanceState(balance_id=balance_id, currency=currency)
            for balance_id, (currency, _) in BALANCES.items()
        }
        self.journal: list[EntryLine] = []
        self.holds: list[Hold] = []
        self.refundable: list[Posting] = []  # applied postings not yet refunded
        self.counter = 0
        self.rejections = 0

    # ---- helpers ---------------------------------------------------------------------------

    def next_id(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-{self.counter}"

    def record(self, lines: tuple[EntryLine, ...]) -> None:
        assert lines_balance(lines), lines
        self.journal.extend(lines)

    def post(self, posting: Posting, *, expect_rejection: bool | None = None) -> Status:
        """Apply a posting; a rejection must change nothing at all."""
        before, journal_size = snapshot(self.balances), len(self.journal)
        outcome = apply_posting(posting, self.balances)
        label_event(f"{posting.transaction_id.split('-')[0]} {outcome.status.value}")
        if outcome.status is Status.REJECTED:
            assert outcome.lines == () and outcome.rejection_reason
            assert snapshot(self.balances) == before
            assert len(self.journal) == journal_size
            self.rejections += 1
        else:
            assert outcome.status is (Status.INFLIGHT if posting.inflight else Status.APPLIED)
            assert outcome.rejection_reason is None
            self.record(outcome.lines)
            if posting.inflight:
                self.holds.append(
                    Hold(
                        posting.transaction_id, posting.currency, posting.debits, posting.credits, posting.amount_minor
                    )
                )
            else:
                self.refundable.append(posting)
        if expect_rejection is not None:
            assert (outcome.status is Status.REJECTED) == expect_rejection, outcome
        return outcome.status

    def expected_rejection(self, posting: Posting) -> bool:
        """An independent statement of the spending rule, per debited balance."""
        if any(BALANCES[leg.identifier][0] != posting.currency for leg in (*posting.debits, *posting.credits)):
            return True
        wanted: dict[str, int] = defaultdict(int)
        for leg in posting.debits:
            wanted[leg.identifier] += leg.amount_minor
        floor = (
            0
            if not posting.allow_overdraft
            else (None if posting.overdraft_limit_minor is None else -posting.overdraft_limit_minor)
        )
        return floor is not None and any(
            self.balances[balance_id].available - amount < floor for balance_id, amount in wanted.items()
        )

    def split_legs(self, data: st.DataObject, total_minor: int, identifiers: list[str]) -> list[Leg] | None:
        """Blnk distributions (fixed, percentage, 'left') for `identifiers`; None if refused."""
        distributions = []
        for identifier in identifiers[:-1]:
            if data.draw(st.booleans(), label="percentage?"):
                percentage = data.draw(st.integers(min_value=1, max_value=60), label="percentage")
                distributions.append(Distribution(identifier, f"{percentage}%"))
            else:
                part = data.draw(st.integers(min_value=1, max_value=max(1, total_minor)), label="fixed part")
                distributions.append(Distribution(identifier, major_text(part)))
        distributions.append(Distribution(identifiers[-1], "left"))
        try:
            legs = split_amount(total_minor, distributions, CURRENCY_PRECISION)
        except InvalidRequest:
            return None  # refused before any balance is looked at
        assert sum(leg.amount_minor for leg in legs) == total_minor
        return legs

    # ---- operations ------------------------------------------------------------------------

    @rule(destination=st.sampled_from(CUSTOMERS), amount_minor=amounts)
    def fund(self, destination: str, amount_minor: int) -> None:
        currency = BALANCES[destination][0]
        posting = posting_for(
            self.next_id("fund"), currency, [Leg(f"@World-{currency}", amount_minor)], [Leg(destination, amount_minor)]
        )
        self.post(posting, expect_rejection=False)

    @rule(
        source=st.sampled_from(ALL_IDS),
        destination=st.sampled_from(ALL_IDS),
        amount_minor=amounts,
        inflight=st.booleans(),
    )
    def transfer(self, source: str, destination: str, amount_minor: int, inflight: bool) -> None:
        if source == destination:
            return
        posting = posting_for(
            self.next_id("txn"),
            BALANCES[source][0],
            [Leg(source, amount_minor)],
            [Leg(destination, amount_minor)],
            inflight=inflight,
        )
        self.post(posting, expect_rejection=self.expected_rejection(posting))

    @rule(
        data=st.data(),
        currency=st.sampled_from(["USD", "EUR"]),
        amount_minor=st.integers(min_value=2, max_value=20_000),
        split_sources=st.booleans(),
        inflight=st.booleans(),
    )
    def split(self, data: st.DataObject, currency: str, amount_minor: int, split_sources: bool, inflight: bool) -> None:
        same_currency = [balance_id for balance_id in ALL_IDS if BALANCES[balance_id][0] == currency]
        many = data.draw(
            st.lists(st.sampled_from(same_currency), min_size=2, max_size=len(same_currency), unique=True),
            label="split side",
        )
        others = [balance_id for balance_id in same_currency if balance_id not in many]
        if not others:
            return
        one = data.draw(st.sampled_from(others), label="single side")
        legs = self.split_legs(data, amount_minor, many)
        if legs is None:
            return
        single = [Leg(one, amount_minor)]
        debits, credits = (legs, single) if split_sources else (single, legs)
        posting = posting_for(self.next_id("split"), currency, debits, credits, inflight=inflight)
        self.post(posting, expect_rejection=self.expected_rejection(posting))

    @rule(data=st.data())
    @precondition(lambda self: any(hold.remaining_minor for hold in self.holds))
    def commit(self, data: st.DataObject) -> None:
        hold = data.draw(st.sampled_from([hold for hold in self.holds if hold.remaining_minor]), label="hold")
        if hold.is_simple:
            amount_minor = data.draw(st.integers(min_value=1, max_value=hold.remaining_minor), label="commit amount")
        else:
            amount_minor = hold.remaining_minor
        before_available = {balance_id: state.available for balance_id, state in self.balances.items()}
        before_committed = hold.committed_minor
        child_id = self.next_id("commit")
        lines = commit_hold(hold, amount_minor, child_id, self.balances)
        self.record(lines)
        assert hold.committed_minor == before_committed + amount_minor
        # Committing moves money from held to applied: what a source can spend does not change
        # (it was already reserved); a destination can spend what it was credited from now on.
        credited: dict[str, int] = defaultdict(int)
        for line in lines:
            if line.bucket is Bucket.APPLIED:
                credited[line.balance_id] += line.credit_minor
        for balance_id, state in self.balances.items():
            assert state.available == before_available[balance_id] + credited[balance_id], state
        if hold.is_simple:
            debits, credits = (
                [Leg(hold.debits[0].identifier, amount_minor)],
                [Leg(hold.credits[0].identifier, amount_minor)],
            )
        else:
            debits, credits = list(hold.debits), list(hold.credits)
        self.refundable.append(posting_for(child_id, hold.currency, debits, credits))

    @rule(data=st.data())
    @precondition(lambda self: any(hold.remaining_minor for hold in self.holds))
    def void(self, data: st.DataObject) -> None:
        hold = data.draw(st.sampled_from([hold for hold in self.holds if hold.remaining_minor]), label="hold")
        remaining, voided_before = hold.remaining_minor, hold.voided_minor
        # All that is held, or (simple holds only) a part of it.
        part = remaining
        if hold.is_simple:
            part = data.draw(st.integers(min_value=1, max_value=remaining), label="void amount")
        lines = void_hold(hold, self.next_id("void"), self.balances, part)
        self.record(lines)
        assert hold.remaining_minor == remaining - part and hold.voided_minor == voided_before + part
        assert all(line.bucket is Bucket.INFLIGHT for line in lines)

    @rule(data=st.data())
    @precondition(lambda self: bool(self.refundable))
    def refund(self, data: st.DataObject) -> None:
        original = data.draw(st.sampled_from(self.refundable), label="posting to refund")
        # The refund debits the original destinations under their own overdraft policies.
        refund = posting_for(self.next_id("refund"), original.currency, list(original.credits), list(original.debits))
        assert reversal_of(original, refund.transaction_id).debits == refund.debits
        status = self.post(refund, expect_rejection=self.expected_rejection(refund))
        if status is Status.APPLIED:
            self.refundable.remove(original)  # refunded once, never twice

    @rule(source=st.sampled_from(CUSTOMERS), destination=st.sampled_from(ALL_IDS), inflight=st.booleans())
    def overdraw(self, source: str, destination: str, inflight: bool) -> None:
        """One minor unit past what the source's policy allows is always refused."""
        currency, policy = BALANCES[source]
        if source == destination or BALANCES[destination][0] != currency:
            return
        floor = 0 if policy == STRICT else -(policy or 0)
        amount_minor = self.balances[source].available - floor + 1
        if amount_minor <= 0:
            return
        posting = posting_for(
            self.next_id("over"),
            currency,
            [Leg(source, amount_minor)],
            [Leg(destination, amount_minor)],
            inflight=inflight,
        )
        self.post(posting, expect_rejection=True)

    @rule(source=st.sampled_from(ALL_IDS), destination=st.sampled_from(ALL_IDS), amount_minor=amounts)
    def wrong_currency(self, source: str, destination: str, amount_minor: int) -> None:
        """A posting in one currency touching a balance held in the other is refused whole."""
        if BALANCES[source][0] == BALANCES[destination][0]:
            return
        posting = posting_for(
            self.next_id("fx"), BALANCES[destination][0], [Leg(source, amount_minor)], [Leg(destination, amount_minor)]
        )
        self.post(posting, expect_rejection=True)

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def debits_equal_credits_per_currency_and_bucket(self) -> None:
        totals: dict[tuple[str, Bucket], int] = defaultdict(int)
        for line in self.journal:
            totals[(line.currency, line.bucket)] += line.debit_minor - line.credit_minor
        assert all(total == 0 for total in totals.values()), dict(totals)
        for currency in ("USD", "EUR"):
            states = [state for state in self.balances.values() if state.currency == currency]
            assert sum(state.balance for state in states) == 0
            assert sum(state.inflight_balance for state in states) == 0

    @invariant()
    def each_balance_equals_its_entries(self) -> None:
        sums: dict[tuple[str, Bucket], list[int]] = defaultdict(lambda: [0, 0])
        for line in self.journal:
            assert BALANCES[line.balance_id][0] == line.currency, line
            sums[(line.balance_id, line.bucket)][0] += line.debit_minor
            sums[(line.balance_id, line.bucket)][1] += line.credit_minor
        for balance_id, state in self.balances.items():
            applied, inflight = sums[(balance_id, Bucket.APPLIED)], sums[(balance_id, Bucket.INFLIGHT)]
            assert (state.debit_balance, state.credit_balance) == tuple(applied), state
            assert (state.inflight_debit_balance, state.inflight_credit_balance) == tuple(inflight), state
            assert state.balance == state.credit_balance - state.debit_balance
            assert state.inflight_balance == state.inflight_credit_balance - state.inflight_debit_balance
            assert state.available == state.balance - state.inflight_debit_balance
            state.assert_consistent()

    @invariant()
    def held_amounts_equal_open_holds(self) -> None:
        held_debit: dict[str, int] = defaultdict(int)
        held_credit: dict[str, int] = defaultdict(int)
        for hold in self.holds:
            assert 0 <= hold.committed_minor + hold.voided_minor <= hold.amount_minor
            assert hold.remaining_minor in (0, hold.amount_minor) or hold.is_simple
            for leg in hold.debits:
                held_debit[leg.identifier] += leg.amount_minor * hold.remaining_minor // hold.amount_minor
            for leg in hold.credits:
                held_credit[leg.identifier] += leg.amount_minor * hold.remaining_minor // hold.amount_minor
        for balance_id, state in self.balances.items():
            assert state.inflight_debit_balance == held_debit[balance_id], (state, dict(held_debit))
            assert state.inflight_credit_balance == held_credit[balance_id], (state, dict(held_credit))

    @invariant()
    def no_balance_below_its_overdraft_policy(self) -> None:
        for balance_id, (_, policy) in BALANCES.items():
            if policy is UNLIMITED:
                continue
            floor = 0 if policy == STRICT else -policy
            assert self.balances[balance_id].available >= floor, self.balances[balance_id]


def test_random_operation_sequences_keep_the_books() -> None:
    run_state_machine_as_test(
        PostingMachine,
        settings=settings(
            max_examples=200,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_a_rejection_writes_nothing_even_after_other_operations() -> None:
    """A fixed sequence, so a regression shows up as a readable failure as well as a shrunk one."""
    machine = PostingMachine()
    machine.fund("usd-strict-a", 1_000)
    machine.transfer("usd-strict-a", "usd-strict-b", 400, inflight=True)
    before = snapshot(machine.balances)
    machine.transfer("usd-strict-a", "usd-strict-b", 601, inflight=False)  # 600 available
    assert snapshot(machine.balances) == before
    assert machine.rejections == 1
    machine.held_amounts_equal_open_holds()
    machine.each_balance_equals_its_entries()
