"""The entry part of a batch, in memory: conditions on locked balances, legs, events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from clearway.contracts.events.ledger import LedgerClearingCleared, LedgerEntryPosted
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.entry_rules import (
    ConditionViolated,
    ExternalTransaction,
    ExternalTransactionAlreadyReconciled,
)
from clearway.ledger.domain.schema import build_entry, load_shipped_schemas, reverse_entry
from clearway.ledger.service.entries import entry_accounts
from clearway.ledger.service.ports import AccountKey, AccountRow
from clearway.ledger.service.posting.entry_poster import EntryPoster, natural
from clearway.ledger.service.posting.operations import PostEntry

NOW = datetime(2026, 11, 21, tzinfo=UTC)
SCHEMA = {schema.key: schema for schema in load_shipped_schemas()}["bulk_split"]
LEDGER = "ldg_1"


def poster(balances: dict[str, BalanceState]) -> EntryPoster:
    counter = itertools.count()
    entries = EntryPoster(store=None, now=NOW, new_id=lambda prefix: f"{prefix}_{next(counter)}")  # type: ignore[arg-type]
    for balance_id, path, account_type, clearing in (
        ("bln_cash", "assets/operating", "asset", False),
        ("bln_clearing", "liabilities/bulk_receivables", "liability", True),
        ("bln_user", "liabilities/user_balances:usr_1", "liability", False),
    ):
        entries.accounts[AccountKey(LEDGER, path, "USD")] = AccountRow(
            balance_id, account_type, path == "assets/operating", clearing
        )
        balances[balance_id] = BalanceState(balance_id, "USD")
    return entries


def operation(entry_type: str, ik: str, external: ExternalTransaction | None = None, **parameters: str) -> PostEntry:
    entry = build_entry(SCHEMA, entry_type, parameters, "USD")
    accounts, condition_accounts = entry_accounts(SCHEMA, entry)
    return PostEntry(LEDGER, ik, entry, "hash", accounts, condition_accounts, external_transaction=external)


def own(entries: EntryPoster, balances: dict[str, BalanceState]) -> dict[str, int]:
    types: dict[str, Any] = {row.balance_id: row.account_type for row in entries.accounts.values()}
    return {balance_id: natural(types[balance_id], state) for balance_id, state in balances.items()}


def test_bulk_payment_splits_until_the_clearing_account_clears() -> None:
    balances: dict[str, BalanceState] = {}
    entries = poster(balances)
    received = entries.post(
        operation("received_bulk_payment", "bulk", ExternalTransaction("bank_1", 500, "USD"), amount="500"),
        balances,
        "txn_a",
    )
    assert own(entries, balances) == {"bln_cash": 500, "bln_clearing": 500, "bln_user": 0}
    assert received.record.amount_minor == 500 and received.record.meta_data["ledger_entry"]["ik"] == "bulk"
    assert [row[1] for row in received.outbox] == ["ledger.entry.posted"]

    before = {balance_id: state.copy() for balance_id, state in balances.items()}
    with pytest.raises(ConditionViolated):
        entries.post(operation("split_bulk_payment", "too-much", user_id="usr_1", amount="501"), balances, "txn_b")
    assert balances == before, "a refused entry changes nothing"

    split = entries.post(operation("split_bulk_payment", "split", user_id="usr_1", amount="500"), balances, "txn_c")
    assert own(entries, balances) == {"bln_cash": 500, "bln_clearing": 0, "bln_user": 500}
    (_, posted_topic, _, _, _, posted, _), (_, cleared_topic, _, _, _, cleared, _) = split.outbox
    assert (posted_topic, cleared_topic) == ("ledger.entry.posted", "ledger.clearing.cleared")
    assert LedgerEntryPosted.model_validate(posted).lines[0].amount_minor == -500
    assert LedgerClearingCleared.model_validate(cleared).account_path == "liabilities/bulk_receivables"
    assert [entry.ik for entry in entries.writes.entries] == ["bulk", "split"]

    with pytest.raises(ExternalTransactionAlreadyReconciled):
        entries.post(
            operation("received_bulk_payment", "bulk-2", ExternalTransaction("bank_1", 500, "USD"), amount="500"),
            balances,
            "txn_d",
        )


def test_reversal_restores_balances_and_marks_the_entry() -> None:
    balances: dict[str, BalanceState] = {}
    entries = poster(balances)
    balances["bln_clearing"].credit_balance = 300
    balances["bln_cash"].debit_balance = 300
    original = operation("split_bulk_payment", "split", user_id="usr_1", amount="300")
    entries.post(original, balances, "txn_a")
    reversal = PostEntry(
        LEDGER,
        "split",
        reverse_entry(original.entry),
        "hash",
        original.accounts,
        reverses_transaction_id="txn_a",
    )
    posted = entries.post(reversal, balances, "txn_b")
    assert own(entries, balances) == {"bln_cash": 300, "bln_clearing": 300, "bln_user": 0}
    assert posted.record.parent_transaction == "txn_a"
    assert posted.record.reference == f"entry-reversal:{LEDGER}:split"
    assert entries.writes.reversals == [(LEDGER, "split", "txn_b")]
