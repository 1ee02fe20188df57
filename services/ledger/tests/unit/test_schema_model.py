"""Loading a schema document: the checks that run before any entry is posted."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from clearway.ledger.domain.schema import SchemaInvalid, parse_schema, parse_schema_object

VALID: dict[str, Any] = {
    "key": "sample",
    "version": 1,
    "accounts": [
        {"path": "assets/operating", "type": "asset", "flags": {"linked": True}},
        {
            "path": "liabilities/pending:{{payment_id}}",
            "type": "liability",
            "flags": {"clearing": True, "template": True},
        },
        {"path": "liabilities/users:{{user_id}}", "type": "liability", "flags": {"template": True}},
        {"path": "income/fees", "type": "income", "currency": "USD"},
    ],
    "entry_types": [
        {
            "type": "pay_in",
            "lines": [
                {"account": "assets/operating", "amount": "{{gross}}"},
                {"account": "liabilities/users:{{recipient_id}}", "amount": "{{gross}} - {{fee}}", "key": "user"},
                {"account": "income/fees", "amount": "{{fee}}", "currency": "USD"},
            ],
            "conditions": [
                {"account": "liabilities/pending:{{payment_id}}", "precondition": {"own_balance": {"eq": "0"}}}
            ],
        }
    ],
}


def with_changes(**path_values: Any) -> dict[str, Any]:
    """A copy of VALID with `accounts__0__flags={...}`-style replacements."""
    document = copy.deepcopy(VALID)
    for dotted, value in path_values.items():
        *parents, leaf = dotted.split("__")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(leaf) if leaf.isdigit() else leaf] = value
    return document


def test_valid_document_loads_and_lists_parameters() -> None:
    schema = parse_schema_object(VALID)
    assert schema.entry_type("pay_in").parameters == ("gross", "recipient_id", "fee", "payment_id")
    assert schema.find_account("liabilities/users:usr_1") is schema.accounts[2]
    assert schema.find_account("liabilities/users") is None
    assert schema.find_account("assets/operating:x") is None


def test_json_text_loads_too() -> None:
    import json

    assert parse_schema(json.dumps(VALID)).key == "sample"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accounts__3__path": "assets/operating"}, "'assets/operating' is declared more than once"),
        ({"accounts__2__path": "liabilities/pending:{{other}}"}, "declared more than once"),
        ({"entry_types": [VALID["entry_types"][0], VALID["entry_types"][0]]}, "'pay_in' is declared more than once"),
        ({"entry_types__0__lines__0__account": "assets/bank"}, "line 1: account 'assets/bank' is not declared"),
        ({"entry_types__0__lines__1__account": "liabilities/users"}, "line 2: account 'liabilities/users' must name"),
        ({"entry_types__0__lines__0__account": "assets/operating:{{x}}"}, "not a template account"),
        ({"entry_types__0__lines__1__account": "liabilities/users:{{recipient id}}"}, "malformed parameter"),
        ({"entry_types__0__lines__1__account": "liabilities/users:{{x}"}, "malformed parameter"),
        ({"entry_types__0__lines__1__amount": "{{gross}} * 2"}, "unexpected '\\*'"),
        ({"entry_types__0__lines__1__amount": "{{gross"}, "unexpected '\\{'"),
        ({"entry_types__0__lines__2__currency": "usd"}, "currency 'usd'"),
        ({"entry_types__0__lines__2__currency": "EUR"}, "line 3: currency EUR differs from account currency USD"),
        ({"entry_types__0__conditions__0__account": "liabilities/nope:{{x}}"}, "condition 1: account"),
        ({"entry_types__0__conditions__0__postcondition": {"own_balance": {"gte": "0"}}}, "exactly one of"),
        ({"entry_types__0__conditions__0__precondition": {"own_balance": {}}}, "at least one of eq, gte, lte"),
        ({"entry_types__0__type": "PayIn"}, "snake_case"),
        ({"entry_types__0__lines": []}, "at least 1 item"),
        ({"accounts__0__flags": {"linked": True, "template": True}}, "suffix is required exactly when"),
        ({"accounts__1__flags": {"clearing": True}}, "suffix is required exactly when"),
        ({"accounts__2__path": "liabilities/users:{{a}}{{b}}"}, "template key must be one parameter"),
        ({"accounts__3__flags": {"clearing": True}}, "clearing and linked accounts must be asset or liability"),
        ({"accounts__1__flags": {"linked": True, "template": True}}, "only asset accounts can be linked"),
        ({"accounts__0__type": "cash"}, "accounts.0.type"),
        ({"accounts__0__path": "Assets/Operating"}, "lower-case segments"),
        ({"accounts__3__currency": "usd"}, "ISO 4217"),
        ({"version": 0}, "greater than or equal to 1"),
        ({"key": "Bad Key"}, "snake_case"),
        ({"entry_types__0__lines__1__key": "dup", "entry_types__0__lines__2__key": "dup"}, "duplicate line keys"),
        ({"entry_types__0__lines__0__surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_documents_are_refused_naming_the_item(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaInvalid, match=message) as raised:
        parse_schema_object(with_changes(**changes), source="sample.v1.json")
    assert raised.value.code == "SCHEMA_INVALID"
    assert str(raised.value).startswith("sample.v1.json is invalid: ")


def test_malformed_json_is_refused() -> None:
    with pytest.raises(SchemaInvalid, match="Invalid JSON"):
        parse_schema("{not json")
