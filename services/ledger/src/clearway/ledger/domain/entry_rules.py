"""Rules for posting schema entries that the pure schema engine leaves to the ledger.

The engine (`domain/schema`) turns an entry type and parameters into balanced lines. What to do
with them here: which entries may post directly and which only through reconciliation, what an
external transaction must match, when two requests with one `ik` are "the same", and whether a
new schema version may replace the accounts an older one created.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clearway.ledger.domain.errors import InvalidRequest, LedgerError, ReferenceConflict, StateConflict
from clearway.ledger.domain.schema import AccountSpec, LedgerSchema, ResolvedEntry, UnknownEntryType, path_matches

IK_LENGTH_MAX = 255
EXTERNAL_ID_LENGTH_MAX = 255
# `<schema key>.<entry type>` picks the entry type of one schema when a ledger carries several.
QUALIFIED_ENTRY_TYPE = re.compile(r"(?P<key>[a-z][a-z0-9_]{0,63})\.(?P<type>[a-z][a-z0-9_]{0,63})")


class LinkedAccountRequiresReconciliation(LedgerError):
    code = "LINKED_ACCOUNT_REQUIRES_RECONCILIATION"


class ReconciliationRequiresLinkedAccount(LedgerError):
    code = "RECONCILIATION_REQUIRES_LINKED_ACCOUNT"


class ReconciliationAmountMismatch(LedgerError):
    code = "RECONCILIATION_AMOUNT_MISMATCH"


class ExternalTransactionAlreadyReconciled(StateConflict):
    code = "EXTERNAL_TRANSACTION_ALREADY_RECONCILED"


class IkReused(ReferenceConflict):
    code = "IK_REUSED"


class ConditionViolated(LedgerError):
    code = "BALANCE_CONDITION_VIOLATED"


class MultiCurrencyEntry(LedgerError):
    code = "MULTI_CURRENCY_ENTRY_UNSUPPORTED"


class NoSchema(LedgerError):
    code = "LEDGER_HAS_NO_SCHEMA"


class AmbiguousEntryType(LedgerError):
    code = "AMBIGUOUS_ENTRY_TYPE"


class SchemaVersionConflict(StateConflict):
    code = "SCHEMA_VERSION_CONFLICT"


class AccountChangeRefused(StateConflict):
    code = "ACCOUNT_CHANGE_REFUSED"


@dataclass(frozen=True, slots=True)
class ExternalTransaction:
    """A bank or provider transaction on a linked account, as the reconciler saw it.

    `amount_minor` is signed from the linked (asset) account's side: money in is positive.
    """

    id: str
    amount_minor: int
    currency: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > EXTERNAL_ID_LENGTH_MAX:
            raise InvalidRequest(f"external_transaction.id must have 1-{EXTERNAL_ID_LENGTH_MAX} characters")
        if self.amount_minor == 0:
            raise InvalidRequest("external_transaction.amount_minor must not be zero")


def check_ik(ik: str) -> str:
    if not ik or len(ik) > IK_LENGTH_MAX or not ik.isprintable():
        raise InvalidRequest(f"ik must have 1-{IK_LENGTH_MAX} printable characters: it makes retries safe", field="ik")
    return ik


def split_entry_type(name: str) -> tuple[str | None, str]:
    """`"bulk_split.split_bulk_payment"` -> `("bulk_split", "split_bulk_payment")`; plain names -> `(None, name)`."""
    match = QUALIFIED_ENTRY_TYPE.fullmatch(name)
    return (match["key"], match["type"]) if match else (None, name)


def choose_schema(schemas: Sequence[LedgerSchema], name: str) -> tuple[LedgerSchema, str]:
    """The (latest) schema that defines entry type `name` (plain or `key.type`), and the bare type."""
    key, entry_type = split_entry_type(name)
    candidates = [
        schema
        for schema in schemas
        if (key is None or schema.key == key) and any(spec.type == entry_type for spec in schema.entry_types)
    ]
    if len(candidates) > 1:
        keys = sorted(schema.key for schema in candidates)
        raise AmbiguousEntryType(
            f"entry type {entry_type!r} is defined by schemas {keys}; name it as '<schema>.{entry_type}'",
            schemas=keys,
        )
    if not candidates:
        if key is not None and not any(schema.key == key for schema in schemas):
            raise NoSchema(f"this ledger has no schema {key!r}", schema=key)
        raise UnknownEntryType(f"no schema on this ledger defines entry type {name[:80]!r}", entry_type=name[:80])
    return candidates[0], entry_type


def linked_amount_minor(entry: ResolvedEntry, currency: str) -> int:
    """What the entry moves on linked (bank-backed) accounts in `currency`, natural sign."""
    return sum(line.amount_minor for line in entry.lines if line.flags.linked and line.currency == currency)


def check_direct_posting(entry: ResolvedEntry) -> None:
    if entry.touches_linked_account:
        paths = sorted({line.account_path for line in entry.lines if line.flags.linked})
        raise LinkedAccountRequiresReconciliation(
            f"entry type {entry.entry_type!r} moves linked account(s) {paths}: post it through reconciliation "
            "with the external transaction it records",
            accounts=paths,
        )


def check_reconciliation(entry: ResolvedEntry, external: ExternalTransaction) -> None:
    """A reconciling entry moves its linked account by exactly the external transaction's amount."""
    if not entry.touches_linked_account:
        raise ReconciliationRequiresLinkedAccount(
            f"entry type {entry.entry_type!r} moves no linked account, so there is nothing to reconcile"
        )
    moved_minor = linked_amount_minor(entry, external.currency)
    if moved_minor != external.amount_minor:
        raise ReconciliationAmountMismatch(
            f"the entry moves linked accounts by {moved_minor} {external.currency} but the external transaction "
            f"is {external.amount_minor} {external.currency}",
            entry_amount_minor=moved_minor,
            external_amount_minor=external.amount_minor,
        )


def check_single_currency(entry: ResolvedEntry) -> str:
    if len(entry.currencies) != 1:
        raise MultiCurrencyEntry(
            f"entry type {entry.entry_type!r} posts in {list(entry.currencies)}; one currency per entry is supported"
        )
    return entry.currencies[0]


def entry_fingerprint(
    *,
    ledger_id: str,
    entry_type: str,
    parameters: Mapping[str, str],
    currency: str | None,
    external_transaction_id: str | None,
) -> str:
    """What makes two postings with one ik "the same request". Not the schema version: a retry
    after the schema changed still answers with the original entry.
    """
    document = {
        "ledger_id": ledger_id,
        "entry_type": entry_type,
        "parameters": dict(sorted(parameters.items())),
        "currency": currency,
        "external_transaction_id": external_transaction_id,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def path_pattern_regex(pattern: str) -> str:
    """A PostgreSQL regular expression equal to `path_matches(pattern, ...)`, for listing in SQL.

    Patterns hold only `[A-Za-z0-9_.@/:*-]` (checked by `path_matches`), so `re.escape` emits
    nothing but `\\.` and `\\-`, which PostgreSQL's regex dialect reads the same way.
    """
    path_matches(pattern, "")  # validates, raising InvalidPathPattern
    return "^" + "[^/]*".join(re.escape(part) for part in pattern.split("*")) + "$"


@dataclass(frozen=True, slots=True)
class ExistingAccount:
    """A kind of account the ledger already has: template instances collapse to their prefix."""

    prefix: str
    is_template: bool
    account_type: str
    is_linked: bool
    is_clearing: bool


def check_schema_accounts(
    schema: LedgerSchema, existing: Iterable[ExistingAccount], others: Iterable[LedgerSchema]
) -> None:
    """A new schema version may add accounts but not retype or re-flag ones that exist.

    `existing` are the ledger's account balances; `others` the latest versions of the ledger's
    schema keys, which share accounts by path (so they must agree on what each one is).
    """
    declared = {spec.prefix: spec for spec in schema.accounts}
    for account in existing:
        spec = declared.get(account.prefix)
        if spec is not None:
            _refuse_change(
                spec, account.is_template, account.account_type, account.is_linked, account.is_clearing, "exists"
            )
    for other in others:
        if other.key == schema.key:
            continue
        for other_spec in other.accounts:
            spec = declared.get(other_spec.prefix)
            if spec is not None:
                _refuse_change(
                    spec,
                    other_spec.flags.template,
                    other_spec.type,
                    other_spec.flags.linked,
                    other_spec.flags.clearing,
                    f"is declared by schema {other.key!r}",
                )


def _refuse_change(
    spec: AccountSpec, is_template: bool, account_type: str, is_linked: bool, is_clearing: bool, where: str
) -> None:
    changes = []
    if spec.flags.template != is_template:
        changes.append(f"template {is_template} -> {spec.flags.template}")
    if spec.type != account_type:
        changes.append(f"type {account_type} -> {spec.type}")
    if spec.flags.clearing != is_clearing:
        changes.append(f"clearing {is_clearing} -> {spec.flags.clearing}")
    if spec.flags.linked != is_linked:
        changes.append(f"linked {is_linked} -> {spec.flags.linked}")
    if changes:
        raise AccountChangeRefused(
            f"account {spec.prefix!r} {where}; a schema cannot change its {', '.join(changes)}",
            account_path=spec.prefix,
            changes=changes,
        )
