"""Reconciliation's domain without I/O: what each kind of match posts (seed 003's entry types, with
iks derived from the match), and the refusals of a malformed expectation."""

from __future__ import annotations

import pytest

from clearway.reconciliation.domain.errors import InvalidRequestError
from clearway.reconciliation.domain.expectations import ExpectationItem, NewExpectation, user_of
from clearway.reconciliation.domain.matches import Match, MatchStatus, Rule, Strategy, entries_for, initiation_entry

from .builders import NOW, Direction, expectation, external_transaction


def _match(strategy: Strategy, transactions: tuple[str, ...], expectations: tuple[str, ...]) -> Match:
    return Match(
        id="mat_1",
        link_id="lnk_1",
        strategy=strategy,
        rule=Rule.REFERENCE,
        external_transaction_ids=transactions,
        expectation_ids=expectations,
        status=MatchStatus.MATCHED,
        created_by="t",
        reason=None,
        entry_iks=(),
        posted_at=None,
        failure=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_single_payment_received_reconciles_reconcile_payment_with_the_signed_amount() -> None:
    match = _match(Strategy.ONE_TO_ONE, ("ext_1",), ("exp_1",))
    (entry,) = entries_for(match, [external_transaction("inbound", 500)], [expectation("inbound", 500, "exp_1")])
    assert (entry.type, entry.ik) == ("reconciliation.reconcile_payment", "recon:mat_1:payment")
    assert entry.parameters == {"amount": "500", "user_id": "u1"}
    assert entry.external_transaction is not None and entry.external_transaction["amount_minor"] == 500


def test_a_two_phase_send_settles_its_pending_clearing_account_with_money_out_negative() -> None:
    payment = expectation("outbound", 700, "exp_2")
    initiate = initiation_entry(payment)
    assert initiate.type == "reconciliation.initiate_payment" and initiate.parameters["payment_id"] == "exp_2"
    match = _match(Strategy.ONE_TO_ONE, ("ext_1",), ("exp_2",))
    (settle,) = entries_for(match, [external_transaction("outbound", 700)], [payment])
    assert settle.type == "reconciliation.settle_payment"
    assert settle.external_transaction is not None and settle.external_transaction["amount_minor"] == -700


def test_a_bulk_receipt_splits_per_item_and_a_batch_prepares_each_payment_then_settles() -> None:
    items = (ExpectationItem("liabilities/user_balances:a", 100), ExpectationItem("liabilities/user_balances:b", 200))
    bulk_match = _match(Strategy.BULK_SPLIT, ("ext_1",), ("exp_1",))
    bulk = entries_for(
        bulk_match, [external_transaction("inbound", 300)], [expectation("inbound", 300, "exp_1", items=items)]
    )
    assert [(entry.type, entry.parameters.get("user_id")) for entry in bulk] == [
        ("reconciliation.received_bulk_payment", None),
        ("reconciliation.split_bulk_payment", "a"),
        ("reconciliation.split_bulk_payment", "b"),
    ]
    batch = entries_for(
        _match(Strategy.ONE_TO_MANY, ("ext_1",), ("exp_1", "exp_2")),
        [external_transaction("outbound", 300)],
        [expectation("outbound", 100, "exp_1"), expectation("outbound", 200, "exp_2")],
    )
    assert [entry.type for entry in batch] == [
        "reconciliation.prepare_batch",
        "reconciliation.prepare_batch",
        "reconciliation.settle_batch",
    ]
    assert {entry.parameters["batch_id"] for entry in batch} == {"mat_1"} and len({entry.ik for entry in batch}) == 3


@pytest.mark.parametrize(
    ("direction", "amount_minor", "items", "code"),
    [
        ("inbound", 0, (), "INVALID_AMOUNT"),
        ("outbound", 300, (ExpectationItem("liabilities/user_balances:a", 300),), "ITEMS_INBOUND_ONLY"),
        ("inbound", 300, (ExpectationItem("liabilities/user_balances:a", 200),), "ITEMS_DO_NOT_ADD_UP"),
        ("inbound", 300, (ExpectationItem("assets/operating", 300),), "ACCOUNT_PATH_UNSUPPORTED"),
    ],
)
def test_malformed_expectations_are_refused(
    direction: Direction, amount_minor: int, items: tuple[ExpectationItem, ...], code: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        NewExpectation(
            link_id="lnk_1",
            direction=direction,
            amount_minor=amount_minor,
            currency="KES",
            reference=None,
            source="api",
            items=items,
        )
    assert refused.value.error_code == code


def test_the_user_of_an_account_path() -> None:
    assert user_of("liabilities/user_balances:usr_9") == "usr_9" and user_of(None) == "unallocated"
