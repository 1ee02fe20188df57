"""Balance conditions: preconditions against balances before, postconditions against after."""

from __future__ import annotations

from clearway.ledger.domain.schema import (
    build_entry,
    check_conditions,
    own_balance_deltas,
    parse_schema_object,
    reverse_entry,
)

SCHEMA = parse_schema_object(
    {
        "key": "conditions",
        "version": 1,
        "accounts": [
            {"path": "liabilities/bulk", "type": "liability", "flags": {"clearing": True}},
            {"path": "liabilities/users:{{user_id}}", "type": "liability", "flags": {"template": True}},
        ],
        "entry_types": [
            {
                "type": "split",
                "lines": [
                    {"account": "liabilities/bulk", "amount": "-{{amount}}"},
                    {"account": "liabilities/users:{{user_id}}", "amount": "{{amount}}"},
                ],
                "conditions": [
                    {"account": "liabilities/bulk", "postcondition": {"own_balance": {"gte": "0"}}},
                    {
                        "account": "liabilities/users:{{user_id}}",
                        "precondition": {"own_balance": {"gte": "0", "lte": "{{cap}} - {{amount}}"}},
                    },
                    {
                        "account": "liabilities/users:{{user_id}}",
                        "postcondition": {"own_balance": {"eq": "{{amount}}"}},
                    },
                ],
            }
        ],
    }
)
PARAMETERS = {"amount": "40", "user_id": "u1", "cap": "100"}


def test_conditions_are_resolved_with_parameters_and_entry_currency() -> None:
    entry = build_entry(SCHEMA, "split", PARAMETERS, "USD")
    second = entry.conditions[1]
    assert (second.account_path, second.currency, second.phase) == ("liabilities/users:u1", "USD", "precondition")
    assert (second.gte_minor, second.lte_minor, second.eq_minor) == (0, 60, None)


def test_satisfied_conditions_report_nothing() -> None:
    entry = build_entry(SCHEMA, "split", PARAMETERS, "USD")
    before = {"liabilities/bulk": 100}  # the user account is new: zero
    after = {"liabilities/bulk": 60, "liabilities/users:u1": 40}
    assert check_conditions(entry, before, after) == []


def test_violations_are_readable_sentences() -> None:
    entry = build_entry(SCHEMA, "split", PARAMETERS, "USD")
    before = {"liabilities/bulk": 10, "liabilities/users:u1": 70}
    after = {"liabilities/bulk": -30, "liabilities/users:u1": 110}
    assert check_conditions(entry, before, after) == [
        "postcondition on liabilities/bulk (USD): own balance -30 must be at least 0",
        "precondition on liabilities/users:u1 (USD): own balance 70 must be at most 60",
        "postcondition on liabilities/users:u1 (USD): own balance 110 must equal 40",
    ]


def test_deltas_give_the_after_balances() -> None:
    entry = build_entry(SCHEMA, "split", PARAMETERS, "USD")
    assert own_balance_deltas(entry) == {("liabilities/bulk", "USD"): -40, ("liabilities/users:u1", "USD"): 40}


def test_a_reversal_carries_no_conditions() -> None:
    entry = build_entry(SCHEMA, "split", PARAMETERS, "USD")
    assert reverse_entry(entry).conditions == ()
