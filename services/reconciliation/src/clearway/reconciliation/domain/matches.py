"""Matches, and the ledger entries each one posts (seed 003's entry types).

    one_to_one  inbound : reconcile `reconcile_payment`                       cash -> user
    bulk_split  inbound : reconcile `received_bulk_payment`, then one `split_bulk_payment` per item
    many_to_one inbound : the same, one split per expectation (one bulk receipt for several)
    one_to_one  outbound: reconcile `settle_payment`                          pending_withdrawals -> cash
    one_to_many outbound: one `prepare_batch` per payment, then reconcile `settle_batch`

Every entry's ik derives from the match id, so posting again (a retry, the recovery pass, a
restart) is a ledger replay, and an external transaction reconciles once (the ledger refuses a
second reconcile of the same external id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from clearway.reconciliation.domain.expectations import Expectation, user_of
from clearway.reconciliation.domain.external_transactions import ExternalTransaction

MATCH_ID_PREFIX = "mat"
SCHEMA_KEY = "reconciliation"


def _entry(name: str) -> str:
    """Qualified with the schema key: a ledger that also carries another schema defining the same
    name (`initiate_settle`, `batch_settle`) would otherwise refuse it as ambiguous."""
    return f"{SCHEMA_KEY}.{name}"


class Strategy(StrEnum):
    ONE_TO_ONE = "one_to_one"
    BULK_SPLIT = "bulk_split"
    MANY_TO_ONE = "many_to_one"
    ONE_TO_MANY = "one_to_many"


class MatchStatus(StrEnum):
    MATCHED = "matched"  # decided; its entries are not all posted yet
    POSTED = "posted"
    UNMATCHED = "unmatched"  # undone by an operator before it posted
    FAILED = "failed"  # the ledger refused it: an operator looks (a break is raised)


class Rule(StrEnum):
    REFERENCE = "reference"
    REFERENCE_GROUP = "reference_group"
    AMOUNT_DATE = "amount_date"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Match:
    id: str
    link_id: str
    strategy: Strategy
    rule: Rule
    external_transaction_ids: tuple[str, ...]
    expectation_ids: tuple[str, ...]
    status: MatchStatus
    created_by: str
    reason: str | None
    entry_iks: tuple[str, ...]
    posted_at: datetime | None
    failure: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """One ledger call: `reconcile` when `external_transaction` is set, else a plain entry."""

    type: str
    ik: str
    parameters: dict[str, str]
    external_transaction: dict[str, Any] | None = None


def _external(transaction: ExternalTransaction) -> dict[str, Any]:
    return {
        "id": transaction.id,
        "amount_minor": transaction.signed_amount_minor,
        "currency": transaction.currency,
        "description": transaction.description or transaction.reference,
        "posted_at": transaction.booked_at.isoformat(),
        "external_id": transaction.external_id,
    }


def entries_for(
    match: Match, transactions: list[ExternalTransaction], expectations: list[Expectation]
) -> list[PlannedEntry]:
    """The entries `match` posts, in order; the reconciling one names its external transaction."""
    assert transactions and expectations, "a match pairs both sides"
    prefix = f"recon:{match.id}"
    if match.strategy is Strategy.ONE_TO_ONE:
        (transaction,) = transactions
        (expectation,) = expectations
        if transaction.direction == "inbound":
            parameters = {"amount": str(transaction.amount_minor), "user_id": expectation.user_id}
            return [PlannedEntry(_entry("reconcile_payment"), f"{prefix}:payment", parameters, _external(transaction))]
        parameters = {"amount": str(transaction.amount_minor), "payment_id": expectation.payment_id}
        return [PlannedEntry(_entry("settle_payment"), f"{prefix}:settle", parameters, _external(transaction))]
    if match.strategy in (Strategy.BULK_SPLIT, Strategy.MANY_TO_ONE):
        (transaction,) = transactions
        received = PlannedEntry(
            _entry("received_bulk_payment"),
            f"{prefix}:received",
            {"amount": str(transaction.amount_minor)},
            _external(transaction),
        )
        splits = (
            [(item.account_path, item.amount_minor) for item in expectations[0].items]
            if match.strategy is Strategy.BULK_SPLIT
            else [(expectation.account_path, expectation.amount_minor) for expectation in expectations]
        )
        return [received] + [
            PlannedEntry(
                _entry("split_bulk_payment"),
                f"{prefix}:split:{index}",
                {"amount": str(amount_minor), "user_id": user_of(account_path)},
            )
            for index, (account_path, amount_minor) in enumerate(splits)
        ]
    assert match.strategy is Strategy.ONE_TO_MANY
    (transaction,) = transactions
    batched = [
        PlannedEntry(
            _entry("prepare_batch"),
            f"{prefix}:prepare:{index}",
            {"amount": str(expectation.amount_minor), "payment_id": expectation.payment_id, "batch_id": match.id},
        )
        for index, expectation in enumerate(expectations)
    ]
    settle = PlannedEntry(
        _entry("settle_batch"),
        f"{prefix}:settle",
        {"amount": str(transaction.amount_minor), "batch_id": match.id},
        _external(transaction),
    )
    return [*batched, settle]


def initiation_entry(expectation: Expectation) -> PlannedEntry:
    """Seed 003's initiation phase of an outbound payment: the user's balance to a pending clearing account."""
    assert expectation.initiation_ik is not None and expectation.direction == "outbound"
    return PlannedEntry(
        _entry("initiate_payment"),
        expectation.initiation_ik,
        {"amount": str(expectation.amount_minor), "user_id": expectation.user_id, "payment_id": expectation.payment_id},
    )
