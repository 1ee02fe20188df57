"""The schema-entry part of a group-commit batch (`PostEntry` operations); step 3, posting.

`BatchExecutor` owns the order of work; this class does what only entries need at each step,
reading and writing through the store's `SchemaEntryStore` (`service/ports.py`):
- before balances are locked: get-or-create the accounts lines name, find the ones conditions
  name, and load which external transactions are already reconciled;
- while applying: check conditions against the locked balances (natural sign), turn the lines
  into a balanced `Posting`, and build the transaction record and the entry's events;
- when flushing: write `ledger_entries` rows and mark reversed entries.
A refused entry raises before any balance changes, so the rest of the batch goes on untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from clearway.contracts.events.ledger import EntryLine as EntryLineEvent
from clearway.contracts.events.ledger import LedgerClearingCleared, LedgerEntryPosted
from clearway.ledger.domain.balances import BalanceState
from clearway.ledger.domain.distribution import Leg
from clearway.ledger.domain.entry_rules import (
    AccountChangeRefused,
    ConditionViolated,
    ExternalTransactionAlreadyReconciled,
)
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.domain.posting import EntryLine, Posting, Status, apply_posting
from clearway.ledger.domain.schema import AccountType, check_conditions, natural_balance
from clearway.ledger.domain.transactions import TransactionRecord
from clearway.ledger.service.commands import currency_precision
from clearway.ledger.service.events import outbox_row
from clearway.ledger.service.ports import AccountKey, AccountRow, EntryRow, NewAccount, SchemaEntryStore
from clearway.ledger.service.posting.operations import EntryAccount, PostEntry

REVERSAL_IK_SUFFIX = ":reversal"
ENTRY_REFERENCE_PREFIXES = ("entry:", "entry-reversal:")  # see PostEntry.reference


@dataclass(frozen=True)
class PostedEntry:
    record: TransactionRecord
    lines: tuple[EntryLine, ...]
    outbox: list[tuple[Any, ...]]


@dataclass
class _Writes:
    entries: list[EntryRow] = field(default_factory=list)
    reversals: list[tuple[str, str, str]] = field(default_factory=list)


def natural(account_type: AccountType, state: BalanceState) -> int:
    return natural_balance(account_type, credit_minor_total=state.credit_balance, debit_minor_total=state.debit_balance)


class EntryPoster:
    def __init__(self, store: SchemaEntryStore, *, now: datetime, new_id: Callable[[str], str]) -> None:
        self.store = store
        self.now = now
        self.new_id = new_id
        self.accounts: dict[AccountKey, AccountRow] = {}
        self.created_ids: set[str] = set()
        self.reconciled: dict[tuple[str, str], str] = {}  # (ledger_id, external id) -> ik
        self.writes = _Writes()

    async def load(self, operations: Sequence[PostEntry]) -> set[str]:
        """Prepare `operations` (the ones not already posted); returns the balance ids to lock."""
        to_create: dict[AccountKey, EntryAccount] = {}
        to_find: set[AccountKey] = set()
        for op in operations:
            for account in op.accounts:
                to_create.setdefault(AccountKey(op.ledger_id, account.path, account.currency), account)
            to_find.update(
                AccountKey(op.ledger_id, account.path, account.currency) for account in op.condition_accounts
            )
        new_accounts = [
            NewAccount(
                key=key,
                balance_id=self.new_id("bln"),
                precision=currency_precision(key.currency),
                account_type=account.account_type,
                is_linked=account.is_linked,
                is_clearing=account.is_clearing,
            )
            for key, account in to_create.items()
        ]
        self.accounts, self.created_ids = await self.store.ensure_accounts(new_accounts)
        self.accounts.update(await self.store.find_accounts(sorted(to_find - set(to_create), key=str)))
        assert set(to_create) <= set(self.accounts), "every line account exists after get-or-create"
        for ledger_id in {op.ledger_id for op in operations}:
            external_ids = [
                op.external_transaction.id
                for op in operations
                if op.ledger_id == ledger_id and op.external_transaction is not None
            ]
            found = await self.store.reconciled_by(ledger_id, external_ids)
            self.reconciled.update({(ledger_id, external_id): ik for external_id, ik in found.items()})
        return {row.balance_id for row in self.accounts.values()}

    # ---- applying -----------------------------------------------------------------------

    def post(self, op: PostEntry, balances: dict[str, BalanceState], transaction_id: str) -> PostedEntry:
        """Apply one entry to the locked `balances`, or raise leaving them untouched."""
        entry = op.entry
        if op.external_transaction is not None:
            reconciled_by = self.reconciled.get((op.ledger_id, op.external_transaction.id))
            if reconciled_by is not None:
                raise ExternalTransactionAlreadyReconciled(
                    f"external transaction {op.external_transaction.id} was already reconciled by entry {reconciled_by}",
                    external_transaction_id=op.external_transaction.id,
                    ik=reconciled_by,
                )
        types = {account.path: account.account_type for account in (*op.accounts, *op.condition_accounts)}
        line_ids = [self._line_account(op, line.account_path, line.currency, line.account_type) for line in entry.lines]
        self._check_conditions(op, balances, types)
        clearing_ids = {
            balance_id
            for line, balance_id in zip(entry.lines, line_ids, strict=True)
            if line.flags.clearing and natural(line.account_type, balances[balance_id]) != 0
        }
        currency = entry.currencies[0]
        posting = Posting(
            transaction_id=transaction_id,
            currency=currency,
            debits=tuple(
                Leg(balance_id, line.debit_minor)
                for line, balance_id in zip(entry.lines, line_ids, strict=True)
                if line.debit_minor
            ),
            credits=tuple(
                Leg(balance_id, line.credit_minor)
                for line, balance_id in zip(entry.lines, line_ids, strict=True)
                if line.credit_minor
            ),
            # Schema accounts have no Blnk spending rule: their bounds are the entry's conditions.
            allow_overdraft=True,
        )
        outcome = apply_posting(posting, balances)
        if outcome.status is not Status.APPLIED:
            raise LedgerError(f"entry {op.ik} could not be applied: {outcome.rejection_reason}")
        line_documents = [
            {
                "account_path": line.account_path,
                "balance_id": balance_id,
                "amount_minor": line.amount_minor,
                "currency": line.currency,
            }
            for line, balance_id in zip(entry.lines, line_ids, strict=True)
        ]
        record = self._record(op, posting, line_documents, transaction_id)
        outbox = [self._posted_event(op, line_documents)]
        for line, balance_id in zip(entry.lines, line_ids, strict=True):
            if balance_id in clearing_ids and natural(line.account_type, balances[balance_id]) == 0:
                clearing_ids.discard(balance_id)  # one event per account, however many lines hit it
                outbox.append(self._cleared_event(op, line.account_path, balance_id, line.currency))
        self._remember(op, record, line_documents)
        return PostedEntry(record=record, lines=outcome.lines, outbox=outbox)

    def _line_account(self, op: PostEntry, path: str, currency: str, account_type: AccountType) -> str:
        row = self.accounts[AccountKey(op.ledger_id, path, currency)]
        if row.account_type != account_type:
            # Schema updates refuse retyping existing accounts; this only trips on a race with one.
            raise AccountChangeRefused(
                f"account {path!r} ({currency}) is a {row.account_type} account, the schema says {account_type}"
            )
        return row.balance_id

    def _check_conditions(
        self, op: PostEntry, balances: dict[str, BalanceState], types: dict[str, AccountType]
    ) -> None:
        entry = op.entry
        deltas: dict[tuple[str, str], int] = {}
        for line in entry.lines:
            deltas[(line.account_path, line.currency)] = deltas.get((line.account_path, line.currency), 0) + (
                line.amount_minor
            )
        violations: list[str] = []
        for condition in entry.conditions:
            row = self.accounts.get(AccountKey(op.ledger_id, condition.account_path, condition.currency))
            before = natural(types[condition.account_path], balances[row.balance_id]) if row else 0
            after = before + deltas.get((condition.account_path, condition.currency), 0)
            # One condition at a time: the engine keys balances by path, conditions may differ in currency.
            single = replace(entry, conditions=(condition,))
            violations += check_conditions(single, {condition.account_path: before}, {condition.account_path: after})
        if violations:
            raise ConditionViolated(
                f"entry type {entry.entry_type!r} refused: " + "; ".join(violations), violations=violations
            )

    def _record(
        self, op: PostEntry, posting: Posting, line_documents: list[dict[str, Any]], transaction_id: str
    ) -> TransactionRecord:
        entry = op.entry
        by_id = {document["balance_id"]: document["account_path"] for document in line_documents}
        meta: dict[str, Any] = {
            "ledger_id": op.ledger_id,
            "ik": op.ik,
            "entry_type": entry.entry_type,
            "schema_key": entry.schema_key,
            "schema_version": entry.schema_version,
            "parameters": dict(entry.parameters),
        }
        if op.external_transaction is not None:
            meta["external_transaction"] = {
                **op.external_transaction.details,
                "id": op.external_transaction.id,
                "amount_minor": op.external_transaction.amount_minor,
                "currency": op.external_transaction.currency,
            }
        if op.reverses_transaction_id is not None:
            meta["reversal_of"] = op.ik
        return TransactionRecord(
            transaction_id=transaction_id,
            parent_transaction=op.reverses_transaction_id,
            reference=op.reference,
            status=Status.APPLIED,
            currency=posting.currency,
            amount_minor=posting.amount_minor,
            precision=currency_precision(posting.currency),
            request_hash=op.request_hash,
            created_at=self.now,
            effective_date=self.now,
            sources=[
                {"identifier": by_id[leg.identifier], "balance_id": leg.identifier, "amount_minor": leg.amount_minor}
                for leg in posting.debits
            ],
            destinations=[
                {"identifier": by_id[leg.identifier], "balance_id": leg.identifier, "amount_minor": leg.amount_minor}
                for leg in posting.credits
            ],
            allow_overdraft=True,
            description=op.description,
            meta_data={"ledger_entry": meta},
        )

    def _event_ik(self, op: PostEntry) -> str:
        return op.ik + REVERSAL_IK_SUFFIX if op.reverses_transaction_id is not None else op.ik

    def _posted_event(self, op: PostEntry, line_documents: list[dict[str, Any]]) -> tuple[Any, ...]:
        ik = self._event_ik(op)
        payload = LedgerEntryPosted(
            ledger_id=op.ledger_id,
            entry_type=op.entry.entry_type,
            ik=ik,
            lines=[EntryLineEvent.model_validate(document) for document in line_documents],
            parameters=dict(op.entry.parameters),
            description=op.description or None,
            occurred_at=self.now,
        ).model_dump(mode="json")
        return outbox_row("ledger.entry.posted", ik, payload, ik, self.now)

    def _cleared_event(self, op: PostEntry, path: str, balance_id: str, currency: str) -> tuple[Any, ...]:
        payload = LedgerClearingCleared(
            ledger_id=op.ledger_id,
            account_path=path,
            balance_id=balance_id,
            currency=currency,
            entry_ik=self._event_ik(op),
            occurred_at=self.now,
        ).model_dump(mode="json")
        return outbox_row("ledger.clearing.cleared", balance_id, payload, balance_id, self.now)

    def _remember(self, op: PostEntry, record: TransactionRecord, line_documents: list[dict[str, Any]]) -> None:
        if op.reverses_transaction_id is not None:
            self.writes.reversals.append((op.ledger_id, op.ik, record.transaction_id))
            return
        external_id = op.external_transaction.id if op.external_transaction is not None else None
        if external_id is not None:
            self.reconciled[(op.ledger_id, external_id)] = op.ik
        self.writes.entries.append(
            EntryRow(
                entry_id=self.new_id("ent"),
                ledger_id=op.ledger_id,
                ik=op.ik,
                entry_type=op.entry.entry_type,
                schema_key=op.entry.schema_key,
                schema_version=op.entry.schema_version,
                currency=record.currency,
                amount_minor=record.amount_minor,
                parameters=dict(op.entry.parameters),
                lines=line_documents,
                description=op.description,
                request_hash=op.request_hash,
                transaction_id=record.transaction_id,
                external_transaction_id=external_id,
                created_at=self.now,
                updated_at=self.now,
            )
        )

    # ---- writing ------------------------------------------------------------------------

    async def flush(self, balances: dict[str, BalanceState]) -> None:
        """After the batch's transactions are inserted (the entry rows reference them)."""
        await self.store.insert_entries(self.writes.entries)
        await self.store.mark_reversed(self.writes.reversals, self.now)
        # A refused entry leaves no trace, not even an empty (and so "cleared") account.
        untouched = sorted(balance_id for balance_id in self.created_ids if not balances[balance_id].touched)
        await self.store.delete_unused_accounts(untouched)


def is_entry_transaction(record: TransactionRecord) -> bool:
    """Transactions posted by schema entries move only through entry reversal, never a Blnk refund."""
    return record.reference.startswith(ENTRY_REFERENCE_PREFIXES) and "ledger_entry" in record.meta_data
