"""The schema files shipped with the ledger: they load, and every entry type balances."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearway.ledger.domain.schema import (
    EntryTypeSpec,
    LedgerSchema,
    ResolvedEntry,
    build_entry,
    check_conditions,
    clearing_status,
    load_shipped_schemas,
    own_balance_deltas,
    path_matches,
    reverse_entry,
)

SCHEMAS = {schema.key: schema for schema in load_shipped_schemas()}
ENTRY_TYPES = [(schema, spec) for schema in SCHEMAS.values() for spec in schema.entry_types]
EXPECTED_ENTRY_TYPES = {
    "payment_receipt": {"reconcile_payment"},
    "bulk_split": {"received_bulk_payment", "split_bulk_payment"},
    "initiate_settle": {"initiate_payment", "settle_payment"},
    "batch_settle": {"initiate_payment", "prepare_batch", "settle_batch"},
    "card_program": {
        "card_purchase_cleared",
        "card_fee_accrued",
        "card_interest_accrued",
        "card_repayment_received",
        "card_repayment_applied",
        "card_network_settled",
    },
    "funding": {"funding_deposit_received", "funding_paid_to_payee"},
    "reconciliation": {
        "reconcile_payment",
        "received_bulk_payment",
        "split_bulk_payment",
        "initiate_payment",
        "settle_payment",
        "prepare_batch",
        "settle_batch",
        "received_card_settlement",
        "split_card_settlement",
        "split_card_clearing",
    },
}


def amount_parameters(spec: EntryTypeSpec) -> set[str]:
    names: set[str] = set()
    for line in spec.lines:
        names.update(line.amount_expression.parameters)
    for condition in spec.conditions:
        for expression in condition.bounds.expressions.values():
            names.update(expression.parameters)
    return names


def sample_parameters(spec: EntryTypeSpec, amount_minor: int = 1500) -> dict[str, str]:
    amounts = amount_parameters(spec)
    return {name: str(amount_minor) if name in amounts else f"{name}_1" for name in spec.parameters}


def assert_balanced(entry: ResolvedEntry) -> None:
    for currency, (debits, credits) in entry.totals_by_currency().items():
        assert debits == credits > 0, f"{entry.entry_type} in {currency}"
    assert all(line.amount_minor != 0 for line in entry.lines)


def test_every_seed_flow_is_shipped_with_its_entry_types() -> None:
    assert {key: {spec.type for spec in schema.entry_types} for key, schema in SCHEMAS.items()} == (
        EXPECTED_ENTRY_TYPES
    )
    assert all(schema.version == 1 for schema in SCHEMAS.values())


def test_cash_accounts_are_linked_assets() -> None:
    for schema in SCHEMAS.values():
        operating = schema.find_account("assets/operating")
        assert operating is not None and operating.flags.linked, schema.key


@pytest.mark.parametrize(("schema", "spec"), ENTRY_TYPES, ids=[f"{s.key}.{e.type}" for s, e in ENTRY_TYPES])
def test_each_entry_type_balances_for_sample_parameters(schema: LedgerSchema, spec: EntryTypeSpec) -> None:
    entry = build_entry(schema, spec.type, sample_parameters(spec), "USD")
    assert_balanced(entry)
    assert_balanced(reverse_entry(entry))
    for line in entry.lines:
        assert schema.find_account(line.account_path) is not None


def apply(balances: dict[str, int], entry: ResolvedEntry) -> dict[str, int]:
    after = dict(balances)
    for (path, _currency), delta in own_balance_deltas(entry).items():
        after[path] = after.get(path, 0) + delta
    return after


def post(schema: LedgerSchema, balances: dict[str, int], entry_type: str, **parameters: str) -> dict[str, int]:
    entry = build_entry(schema, entry_type, parameters, "USD")
    after = apply(balances, entry)
    assert check_conditions(entry, balances, after) == []
    return after


def pending(balances: Mapping[str, int], pattern: str) -> list[str]:
    return sorted(
        path for path, value in balances.items() if path_matches(pattern, path) and clearing_status(value) == "pending"
    )


def test_bulk_payment_clears_once_fully_split() -> None:
    schema = SCHEMAS["bulk_split"]
    balances = post(schema, {}, "received_bulk_payment", amount="300")
    assert pending(balances, "liabilities/bulk_receivables") == ["liabilities/bulk_receivables"]
    balances = post(schema, balances, "split_bulk_payment", amount="100", user_id="alice")
    balances = post(schema, balances, "split_bulk_payment", amount="200", user_id="bob")
    assert pending(balances, "liabilities/bulk_receivables") == []
    assert balances["liabilities/user_balances:bob"] == 200
    over_split = build_entry(schema, "split_bulk_payment", {"amount": "1", "user_id": "eve"}, "USD")
    assert check_conditions(over_split, balances, apply(balances, over_split)) != []


def test_batch_of_payments_moves_through_both_clearing_accounts() -> None:
    schema = SCHEMAS["batch_settle"]
    balances = {"liabilities/user_balances:u1": 500}
    balances = post(schema, balances, "initiate_payment", amount="100", user_id="u1", payment_id="p1")
    balances = post(schema, balances, "initiate_payment", amount="150", user_id="u1", payment_id="p2")
    assert pending(balances, "liabilities/pending_payments:*") == [
        "liabilities/pending_payments:p1",
        "liabilities/pending_payments:p2",
    ]
    balances = post(schema, balances, "prepare_batch", amount="100", payment_id="p1", batch_id="b1")
    balances = post(schema, balances, "prepare_batch", amount="150", payment_id="p2", batch_id="b1")
    assert pending(balances, "liabilities/pending_payments:*") == []
    assert pending(balances, "liabilities/pending_batches:*") == ["liabilities/pending_batches:b1"]
    balances = post(schema, balances, "settle_batch", amount="250", batch_id="b1")
    assert pending(balances, "liabilities/*") == ["liabilities/user_balances:u1"]
    assert balances["assets/operating"] == -250  # the opening user balance came from outside this test


def test_withdrawal_beyond_the_user_balance_violates_the_postcondition() -> None:
    schema = SCHEMAS["initiate_settle"]
    entry = build_entry(schema, "initiate_payment", {"amount": "80", "user_id": "u", "withdrawal_id": "w"}, "USD")
    before = {"liabilities/user_balances:u": 50}
    assert check_conditions(entry, before, apply(before, entry)) == [
        "postcondition on liabilities/user_balances:u (USD): own balance -30 must be at least 0"
    ]


template_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=24)


@settings(max_examples=300, deadline=None)
@given(
    choice=st.sampled_from(ENTRY_TYPES),
    data=st.data(),
    currency=st.sampled_from(["USD", "EUR", "KES", "JPY"]),
)
def test_random_positive_parameters_always_balance(
    choice: tuple[LedgerSchema, EntryTypeSpec], data: st.DataObject, currency: str
) -> None:
    schema, spec = choice
    amounts = amount_parameters(spec)
    parameters = {
        name: str(data.draw(st.integers(min_value=1, max_value=10**15), label=name))
        if name in amounts
        else data.draw(template_keys, label=name)
        for name in spec.parameters
    }
    entry = build_entry(schema, spec.type, parameters, currency)
    assert entry.currencies == (currency,)
    totals = entry.totals_by_currency()
    assert totals[currency][0] == totals[currency][1]
    debit_side = sum(line.amount_minor for line in entry.lines if line.account_type in ("asset", "expense"))
    credit_side = sum(line.amount_minor for line in entry.lines if line.account_type not in ("asset", "expense"))
    assert debit_side == credit_side
    reversal = reverse_entry(entry).totals_by_currency()
    assert reversal == totals


def test_reconciliation_schema_unifies_the_per_flow_schemas() -> None:
    """Seed 003's flows in one schema: each per-flow file's entry types keep their lines there."""
    unified = SCHEMAS["reconciliation"]
    renamed = {"withdrawal_id": "payment_id"}  # initiate_settle's template key
    for key in ("payment_receipt", "bulk_split", "initiate_settle"):
        for spec in SCHEMAS[key].entry_types:
            parameters = sample_parameters(spec)
            expected = build_entry(SCHEMAS[key], spec.type, parameters, "USD")
            mapped = {renamed.get(name, name): value for name, value in parameters.items()}
            actual = build_entry(unified, spec.type, mapped, "USD")
            assert [line.amount_minor for line in actual.lines] == [line.amount_minor for line in expected.lines]
            assert [line.account_type for line in actual.lines] == [line.account_type for line in expected.lines]
    clearing = {spec.path for spec in unified.accounts if spec.flags.clearing}
    assert clearing == {
        "liabilities/bulk_receivables",
        "liabilities/pending_withdrawals:{{payment_id}}",
        "liabilities/pending_batches:{{batch_id}}",
        "liabilities/pending_settlements:{{settlement_id}}",
        "liabilities/pending_clearings:{{clearing_id}}",
    }


def test_a_negative_amount_posts_the_opposite_of_a_settlement() -> None:
    """The bank's reversal of a settlement is reconciled with the same type and a negated amount."""
    schema = SCHEMAS["reconciliation"]
    balances = {"liabilities/user_balances:u1": 500}
    balances = post(schema, balances, "initiate_payment", amount="200", user_id="u1", payment_id="p1")
    settled = post(schema, balances, "settle_payment", amount="200", payment_id="p1")
    assert pending(settled, "liabilities/pending_withdrawals:*") == []
    reversed_ = post(schema, settled, "settle_payment", amount="-200", payment_id="p1")
    assert {path: value for path, value in reversed_.items() if value} == balances
    assert pending(reversed_, "liabilities/pending_withdrawals:*") == ["liabilities/pending_withdrawals:p1"]


def test_card_settlement_clears_at_every_level() -> None:
    schema = SCHEMAS["reconciliation"]
    balances = post(schema, {}, "received_card_settlement", amount="1000", settlement_id="s1")
    balances = post(schema, balances, "split_card_settlement", amount="600", settlement_id="s1", clearing_id="c1")
    balances = post(schema, balances, "split_card_settlement", amount="400", settlement_id="s1", clearing_id="c2")
    assert pending(balances, "liabilities/pending_settlements:*") == []
    assert pending(balances, "liabilities/pending_clearings:*") == [
        "liabilities/pending_clearings:c1",
        "liabilities/pending_clearings:c2",
    ]
    for clearing_id, user_id, amount in (("c1", "u1", "250"), ("c1", "u2", "350"), ("c2", "u1", "400")):
        balances = post(
            schema, balances, "split_card_clearing", amount=amount, clearing_id=clearing_id, user_id=user_id
        )
    assert pending(balances, "liabilities/pending_*") == []
    assert balances["liabilities/user_balances:u1"] == 650
    over = build_entry(schema, "split_card_clearing", {"amount": "1", "clearing_id": "c1", "user_id": "u3"}, "USD")
    assert check_conditions(over, balances, apply(balances, over)) != []
