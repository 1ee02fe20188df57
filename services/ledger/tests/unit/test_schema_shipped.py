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
