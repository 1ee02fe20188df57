"""Matches, and the ledger entries each one posts (seed 003's entry types).

    one_to_one  inbound : reconcile `reconcile_payment`                       cash -> user
    bulk_split  inbound : reconcile `received_bulk_payment`, then one `split_bulk_payment` per item
    many_to_one inbound : the same, one split per expectation (one bulk receipt for several)
    one_to_one  outbound: reconcile `settle_payment`                          pending_withdrawals -> cash
    one_to_many outbound: one `prepare_batch` per payment, then reconcile `settle_batch`
    card_settlement inbound: reconcile `received_card_settlement`, one `split_card_settlement` per
                    clearing (the clearings' own files are split later: domain/card_clearings.py)
    reversal    the bank reversing a settled payment or batch: reconcile the original settlement's
                type with opposite amounts (its clearing account is pending again), then reverse the
                `prepare_batch` and `initiate_payment` entries so every clearing account clears and
                the user's balance is restored. A received payment's reversal is `reconcile_payment`
                with the opposite amount.

Every entry's ik derives from the match id, so posting again (a retry, the recovery pass, a
restart) is a ledger replay, and an external transaction reconciles once (the ledger refuses a
second reconcile of the same external id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from clearway.reconciliation.domain.batches import prepare_ik
from clearway.reconciliation.domain.card_clearings import CardClearing
from clearway.reconciliation.domain.expectations import Expectation, clearing_of, user_of
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
    CARD_SETTLEMENT = "card_settlement"
    REVERSAL = "reversal"


# What the reversal rule can undo automatically: a bulk receipt's splits went to several users, so
# reversing one is an operator's decision.
REVERSIBLE = (Strategy.ONE_TO_ONE, Strategy.ONE_TO_MANY)


class MatchStatus(StrEnum):
    MATCHED = "matched"  # decided; its entries are not all posted yet
    POSTED = "posted"
    UNMATCHED = "unmatched"  # undone by an operator before it posted
    FAILED = "failed"  # the ledger refused it: an operator looks (a break is raised)


class Rule(StrEnum):
    REFERENCE = "reference"
    REFERENCE_GROUP = "reference_group"
    REVERSAL = "reversal"
    AMOUNT_DATE = "amount_date"
    ROUTE = "route"  # a single-purpose route: the link's route account (service/matching.py)
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
    reverses_match_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """One ledger call: `reconcile` when `external_transaction` is set, the reversal of the entry
    `reverses_ik` when that is set, else a plain entry."""

    type: str
    ik: str
    parameters: dict[str, str]
    external_transaction: dict[str, Any] | None = None
    reverses_ik: str | None = None


def reversal_of(ik: str) -> PlannedEntry:
    return PlannedEntry("reversal", f"reverse:{ik}", {}, reverses_ik=ik)


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
    match: Match,
    transactions: list[ExternalTransaction],
    expectations: list[Expectation],
    *,
    original: Match | None = None,
) -> list[PlannedEntry]:
    """The entries `match` posts, in order; the reconciling one names its external transaction.
    A reversal also needs the match it reverses (`original`), whose expectations it is given."""
    assert transactions and expectations, "a match pairs both sides"
    prefix = f"recon:{match.id}"
    (transaction,) = transactions
    if match.strategy is Strategy.REVERSAL:
        assert original is not None, "a reversal names the match it reverses"
        return _reversal(prefix, transaction, original, expectations)
    if match.strategy is Strategy.ONE_TO_ONE:
        (expectation,) = expectations
        if transaction.direction == "inbound":
            parameters = {"amount": str(transaction.amount_minor), "user_id": expectation.user_id}
            return [PlannedEntry(_entry("reconcile_payment"), f"{prefix}:payment", parameters, _external(transaction))]
        parameters = {"amount": str(transaction.amount_minor), "payment_id": expectation.payment_id}
        return [PlannedEntry(_entry("settle_payment"), f"{prefix}:settle", parameters, _external(transaction))]
    if match.strategy is Strategy.CARD_SETTLEMENT:
        (settlement,) = expectations
        settlement_id = settlement.reference or settlement.id
        received = PlannedEntry(
            _entry("received_card_settlement"),
            f"{prefix}:received",
            {"amount": str(transaction.amount_minor), "settlement_id": settlement_id},
            _external(transaction),
        )
        return [received] + [
            PlannedEntry(
                _entry("split_card_settlement"),
                f"{prefix}:clearing:{clearing_of(item.account_path)}",
                {
                    "amount": str(item.amount_minor),
                    "settlement_id": settlement_id,
                    "clearing_id": clearing_of(item.account_path),
                },
            )
            for item in settlement.items
        ]
    if match.strategy in (Strategy.BULK_SPLIT, Strategy.MANY_TO_ONE):
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
    batch_id = batch_of(match, expectations)
    batched = [
        # A formed batch's prepares were posted when it formed: the same ik makes these replays.
        prepare_entry(expectation, batch_id)
        if expectation.batch_id
        else PlannedEntry(
            _entry("prepare_batch"),
            f"{prefix}:prepare:{index}",
            {"amount": str(expectation.amount_minor), "payment_id": expectation.payment_id, "batch_id": batch_id},
        )
        for index, expectation in enumerate(expectations)
    ]
    settle = PlannedEntry(
        _entry("settle_batch"),
        f"{prefix}:settle",
        {"amount": str(transaction.amount_minor), "batch_id": batch_id},
        _external(transaction),
    )
    return [*batched, settle]


def batch_of(match: Match, expectations: list[Expectation]) -> str:
    """A formed batch's id; a batch formed only by its settlement (a shared reference) is the match."""
    formed = {expectation.batch_id for expectation in expectations}
    if len(formed) == 1 and None not in formed:
        (batch_id,) = formed
        assert batch_id is not None
        return batch_id
    return match.id


def _reversal(
    prefix: str, transaction: ExternalTransaction, original: Match, expectations: list[Expectation]
) -> list[PlannedEntry]:
    """Seed 003: reconcile the reversal with the original settlement's amounts negated, then reverse
    the batch and initiation entries, so the clearing accounts it reopened clear again."""
    negated = str(-transaction.amount_minor)
    if original.strategy is Strategy.ONE_TO_ONE:
        (expectation,) = expectations
        if expectation.direction == "inbound":
            parameters = {"amount": negated, "user_id": expectation.user_id}
            return [PlannedEntry(_entry("reconcile_payment"), f"{prefix}:payment", parameters, _external(transaction))]
        parameters = {"amount": negated, "payment_id": expectation.payment_id}
        settle = PlannedEntry(_entry("settle_payment"), f"{prefix}:settle", parameters, _external(transaction))
        return [settle, *_initiations_reversed(expectations)]
    assert original.strategy is Strategy.ONE_TO_MANY, f"{original.strategy} is not reversed automatically"
    parameters = {"amount": negated, "batch_id": batch_of(original, expectations)}
    settle = PlannedEntry(_entry("settle_batch"), f"{prefix}:settle", parameters, _external(transaction))
    prepares = [reversal_of(ik) for ik in original.entry_iks if ":prepare:" in ik]
    return [settle, *prepares, *_initiations_reversed(expectations)]


def _initiations_reversed(expectations: list[Expectation]) -> list[PlannedEntry]:
    return [reversal_of(e.initiation_ik) for e in expectations if e.initiation_ik is not None]


def initiation_entry(expectation: Expectation) -> PlannedEntry:
    """Seed 003's initiation phase of an outbound payment: the user's balance to a pending clearing account."""
    assert expectation.initiation_ik is not None and expectation.direction == "outbound"
    return PlannedEntry(
        _entry("initiate_payment"),
        expectation.initiation_ik,
        {"amount": str(expectation.amount_minor), "user_id": expectation.user_id, "payment_id": expectation.payment_id},
    )


def prepare_entry(expectation: Expectation, batch_id: str) -> PlannedEntry:
    """Seed 003's prepare_batch for a payment joining a formed batch."""
    return PlannedEntry(
        _entry("prepare_batch"),
        prepare_ik(batch_id, expectation.id),
        {"amount": str(expectation.amount_minor), "payment_id": expectation.payment_id, "batch_id": batch_id},
    )


def split_entries(clearing: CardClearing) -> list[PlannedEntry]:
    """Level 3 of a card settlement: one `split_card_clearing` per card transaction of the clearing."""
    assert clearing.transactions is not None
    return [
        PlannedEntry(
            _entry("split_card_clearing"),
            f"recon:{clearing.id}:card:{transaction.card_transaction_id}",
            {
                "amount": str(transaction.amount_minor),
                "clearing_id": clearing.clearing_id,
                "user_id": user_of(transaction.account_path),
            },
        )
        for transaction in clearing.transactions
    ]
