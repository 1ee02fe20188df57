"""Seed 003's settlement flows without I/O: what a formed batch, a reversal after settlement and a
card network's three-level settlement post, and the refusals of malformed batches and files."""

from __future__ import annotations

import dataclasses

import pytest

from clearway.reconciliation.domain.batches import prepare_ik, validate_members
from clearway.reconciliation.domain.card_clearings import (
    CardClearing,
    CardTransaction,
    ClearingStatus,
    validate_clearing_file,
)
from clearway.reconciliation.domain.errors import InvalidRequestError
from clearway.reconciliation.domain.expectations import (
    CARD_SETTLEMENT_SOURCE,
    Expectation,
    ExpectationItem,
    NewExpectation,
    new_expectation,
)
from clearway.reconciliation.domain.matches import (
    Match,
    MatchStatus,
    Rule,
    Strategy,
    entries_for,
    split_entries,
)

from .builders import NOW, Direction, expectation, external_transaction


def _expectation(direction: Direction, amount_minor: int, eid: str, **fields: object) -> Expectation:
    return dataclasses.replace(expectation(direction, amount_minor, eid), **fields)  # type: ignore[arg-type]


def _match(strategy: Strategy, expectations: tuple[str, ...], *, mid: str = "mat_1", **fields: object) -> Match:
    match = Match(
        id=mid,
        link_id="lnk_1",
        strategy=strategy,
        rule=Rule.REFERENCE,
        external_transaction_ids=("ext_1",),
        expectation_ids=expectations,
        status=MatchStatus.POSTED,
        created_by="t",
        reason=None,
        entry_iks=(),
        posted_at=None,
        failure=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(match, **fields)  # type: ignore[arg-type]


def test_a_formed_batch_settles_with_the_prepares_it_already_posted() -> None:
    members = [
        _expectation("outbound", 100, "exp_1", batch_id="bat_1"),
        _expectation("outbound", 200, "exp_2", batch_id="bat_1"),
    ]
    entries = entries_for(
        _match(Strategy.ONE_TO_MANY, ("exp_1", "exp_2")), [external_transaction("outbound", 300)], members
    )
    assert [(e.type, e.ik) for e in entries[:2]] == [
        ("reconciliation.prepare_batch", prepare_ik("bat_1", "exp_1")),
        ("reconciliation.prepare_batch", prepare_ik("bat_1", "exp_2")),
    ]
    assert entries[2].type == "reconciliation.settle_batch" and entries[2].parameters["batch_id"] == "bat_1"


def test_a_sent_payment_reversed_after_settlement_posts_opposite_amounts_then_reverses_its_initiation() -> None:
    payment = _expectation("outbound", 700, "exp_7")
    original = _match(Strategy.ONE_TO_ONE, ("exp_7",), mid="mat_0", entry_iks=("recon:mat_0:settle",))
    reversal = _match(Strategy.REVERSAL, ("exp_7",), mid="mat_9", reverses_match_id="mat_0")
    settle, initiation = entries_for(reversal, [external_transaction("inbound", 700)], [payment], original=original)
    assert (settle.type, settle.parameters["amount"]) == ("reconciliation.settle_payment", "-700")
    assert settle.external_transaction is not None and settle.external_transaction["amount_minor"] == 700
    assert (initiation.reverses_ik, initiation.ik) == (payment.initiation_ik, f"reverse:{payment.initiation_ik}")


def test_a_received_payment_reversed_is_reconcile_payment_with_the_opposite_amount() -> None:
    received = _expectation("inbound", 400, "exp_4")
    original = _match(Strategy.ONE_TO_ONE, ("exp_4",), mid="mat_0")
    reversal = _match(Strategy.REVERSAL, ("exp_4",), mid="mat_9", reverses_match_id="mat_0")
    (entry,) = entries_for(reversal, [external_transaction("outbound", 400)], [received], original=original)
    assert (entry.type, entry.parameters) == ("reconciliation.reconcile_payment", {"amount": "-400", "user_id": "u1"})


def test_a_batch_reversed_after_settlement_reverses_its_prepares_and_initiations() -> None:
    members = [_expectation("outbound", 100, "exp_1"), _expectation("outbound", 200, "exp_2")]
    original = _match(
        Strategy.ONE_TO_MANY,
        ("exp_1", "exp_2"),
        mid="mat_0",
        entry_iks=("recon:mat_0:prepare:0", "recon:mat_0:prepare:1", "recon:mat_0:settle"),
    )
    reversal = _match(Strategy.REVERSAL, ("exp_1", "exp_2"), mid="mat_9", reverses_match_id="mat_0")
    entries = entries_for(reversal, [external_transaction("inbound", 300)], members, original=original)
    assert (entries[0].type, entries[0].parameters) == (
        "reconciliation.settle_batch",
        {"amount": "-300", "batch_id": "mat_0"},
    )
    assert [e.reverses_ik for e in entries[1:]] == [
        "recon:mat_0:prepare:0",
        "recon:mat_0:prepare:1",
        members[0].initiation_ik,
        members[1].initiation_ik,
    ]


def test_a_card_settlement_is_received_then_split_per_clearing_then_per_card_transaction() -> None:
    settlement = new_expectation(
        NewExpectation(
            link_id="lnk_1",
            direction="inbound",
            amount_minor=1_500,
            currency="KES",
            reference="SET-1",
            source=CARD_SETTLEMENT_SOURCE,
            items=(
                ExpectationItem("liabilities/pending_clearings:C1", 1_000),
                ExpectationItem("liabilities/pending_clearings:C2", 500),
            ),
        ),
        expectation_id="exp_s",
        now=NOW,
    )
    entries = entries_for(
        _match(Strategy.CARD_SETTLEMENT, ("exp_s",)), [external_transaction("inbound", 1_500)], [settlement]
    )
    assert [(e.type, e.parameters.get("clearing_id")) for e in entries] == [
        ("reconciliation.received_card_settlement", None),
        ("reconciliation.split_card_settlement", "C1"),
        ("reconciliation.split_card_settlement", "C2"),
    ]
    assert entries[0].parameters["settlement_id"] == "SET-1" and entries[0].external_transaction is not None
    clearing = CardClearing(
        id="ccl_1",
        link_id="lnk_1",
        clearing_id="C1",
        settlement_id="SET-1",
        expected_minor=1_000,
        transactions=(
            CardTransaction("ct1", "liabilities/user_balances:m1", 600),
            CardTransaction("ct2", "liabilities/user_balances:m2", 400),
        ),
        settled=True,
        status=ClearingStatus.WAITING,
        failure=None,
        created_at=NOW,
        updated_at=NOW,
    )
    assert clearing.ready and clearing.mismatch() is None
    assert [(e.parameters["user_id"], e.parameters["amount"]) for e in split_entries(clearing)] == [
        ("m1", "600"),
        ("m2", "400"),
    ]
    short = dataclasses.replace(clearing, expected_minor=1_100)
    assert short.mismatch() is not None and "1000" in (short.mismatch() or "")


def test_malformed_batches_and_card_files_are_refused() -> None:
    for members, code in (([], "BATCH_EMPTY"), (["exp_1", "exp_1"], "BATCH_DUPLICATE_MEMBER")):
        with pytest.raises(InvalidRequestError) as refused:
            validate_members(members)
        assert refused.value.error_code == code
    good = CardTransaction("ct1", "liabilities/user_balances:m1", 100)
    for transactions, code in (
        ([], "CLEARING_EMPTY"),
        ([good, good], "CLEARING_DUPLICATE_TRANSACTION"),
        ([CardTransaction("ct1", "liabilities/user_balances:m1", 0)], "INVALID_AMOUNT"),
        ([CardTransaction("ct1", "assets/operating", 100)], "ACCOUNT_PATH_UNSUPPORTED"),
    ):
        with pytest.raises(InvalidRequestError) as refused:
            validate_clearing_file("C1", transactions)
        assert refused.value.error_code == code
    with pytest.raises(InvalidRequestError) as refused:
        NewExpectation(
            link_id="lnk_1",
            direction="inbound",
            amount_minor=100,
            currency="KES",
            reference="SET",
            source=CARD_SETTLEMENT_SOURCE,
            items=(ExpectationItem("liabilities/user_balances:u1", 100),),
        )
    assert refused.value.error_code == "ACCOUNT_PATH_UNSUPPORTED"
