"""Posting rules around the schema engine: reconciliation, ik sameness, schema changes, patterns."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearway.ledger.domain.entry_rules import (
    AccountChangeRefused,
    AmbiguousEntryType,
    ExistingAccount,
    ExternalTransaction,
    LinkedAccountRequiresReconciliation,
    NoSchema,
    ReconciliationAmountMismatch,
    ReconciliationRequiresLinkedAccount,
    check_direct_posting,
    check_reconciliation,
    check_schema_accounts,
    choose_schema,
    entry_fingerprint,
    path_pattern_regex,
    split_entry_type,
)
from clearway.ledger.domain.errors import InvalidRequest
from clearway.ledger.domain.schema import (
    InvalidPathPattern,
    UnknownEntryType,
    build_entry,
    load_shipped_schemas,
    parse_schema_object,
    path_matches,
)

SHIPPED = {schema.key: schema for schema in load_shipped_schemas()}


def test_linked_entries_post_only_through_reconciliation() -> None:
    schema = SHIPPED["initiate_settle"]
    settle = build_entry(schema, "settle_payment", {"withdrawal_id": "wd_1", "amount": "400"}, "USD")
    with pytest.raises(LinkedAccountRequiresReconciliation):
        check_direct_posting(settle)
    check_reconciliation(settle, ExternalTransaction("bank_1", -400, "USD"))
    with pytest.raises(ReconciliationAmountMismatch):
        check_reconciliation(settle, ExternalTransaction("bank_1", 400, "USD"))
    with pytest.raises(ReconciliationAmountMismatch):
        check_reconciliation(settle, ExternalTransaction("bank_1", -400, "EUR"))
    initiate = build_entry(schema, "initiate_payment", {"withdrawal_id": "wd_1", "user_id": "u", "amount": "4"}, "USD")
    check_direct_posting(initiate)
    with pytest.raises(ReconciliationRequiresLinkedAccount):
        check_reconciliation(initiate, ExternalTransaction("bank_1", 4, "USD"))


def test_external_transaction_bounds() -> None:
    with pytest.raises(InvalidRequest):
        ExternalTransaction("", 1, "USD")
    with pytest.raises(InvalidRequest):
        ExternalTransaction("bank_1", 0, "USD")


def test_choose_schema_by_plain_or_qualified_name() -> None:
    schemas = [SHIPPED["batch_settle"], SHIPPED["initiate_settle"], SHIPPED["payment_receipt"]]
    assert choose_schema(schemas, "reconcile_payment")[0].key == "payment_receipt"
    with pytest.raises(AmbiguousEntryType):
        choose_schema(schemas, "initiate_payment")
    schema, entry_type = choose_schema(schemas, "batch_settle.initiate_payment")
    assert (schema.key, entry_type) == ("batch_settle", "initiate_payment")
    with pytest.raises(UnknownEntryType):
        choose_schema(schemas, "payment_receipt.initiate_payment")
    with pytest.raises(NoSchema):
        choose_schema(schemas, "bulk_split.split_bulk_payment")
    assert split_entry_type("plain") == (None, "plain")


def test_fingerprint_ignores_parameter_order_only() -> None:
    base = {"ledger_id": "l", "entry_type": "t", "currency": "USD", "external_transaction_id": None}
    first = entry_fingerprint(parameters={"a": "1", "b": "2"}, **base)  # type: ignore[arg-type]
    assert first == entry_fingerprint(parameters={"b": "2", "a": "1"}, **base)  # type: ignore[arg-type]
    assert first != entry_fingerprint(parameters={"a": "1", "b": "3"}, **base)  # type: ignore[arg-type]


def test_schema_cannot_reflag_or_retype_existing_accounts() -> None:
    schema = SHIPPED["initiate_settle"]
    same = ExistingAccount("liabilities/pending_withdrawals", True, "liability", False, True)
    check_schema_accounts(schema, [same], [SHIPPED["payment_receipt"], schema])
    for changed in (
        ExistingAccount("liabilities/pending_withdrawals", True, "liability", False, False),
        ExistingAccount("liabilities/pending_withdrawals", False, "liability", False, True),
        ExistingAccount("assets/operating", False, "asset", False, False),
        ExistingAccount("liabilities/user_balances", True, "asset", False, False),
    ):
        with pytest.raises(AccountChangeRefused):
            check_schema_accounts(schema, [changed], [])
    document = SHIPPED["payment_receipt"].model_dump(mode="json")
    document["accounts"][0]["flags"]["linked"] = False  # assets/operating, linked in initiate_settle
    unlinked = parse_schema_object(document)
    with pytest.raises(AccountChangeRefused):
        check_schema_accounts(schema, [], [unlinked])


SEGMENT = st.text(alphabet="abc_-.", min_size=0, max_size=4)


@given(
    pattern=st.lists(st.sampled_from(["a", "b", "/", ":", "*", "_", ".", "-"]), min_size=1, max_size=10).map("".join),
    path=st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
)
def test_pattern_regex_agrees_with_path_matches(pattern: str, path: str) -> None:
    try:
        expected = path_matches(pattern, path)
    except InvalidPathPattern:
        with pytest.raises(InvalidPathPattern):
            path_pattern_regex(pattern)
        return
    # Python's `re` stands in for PostgreSQL's regex here: the emitted syntax is common to both.
    assert (re.search(path_pattern_regex(pattern), path) is not None) == expected


def test_pattern_regex_examples() -> None:
    regex = path_pattern_regex("liabilities/pending_withdrawals:*")
    assert re.search(regex, "liabilities/pending_withdrawals:wd_1")
    assert not re.search(regex, "liabilities/pending_withdrawals")
    assert not re.search(regex, "liabilities/pending_withdrawals:wd/1")
    with pytest.raises(InvalidPathPattern):
        path_pattern_regex("assets/[x")
