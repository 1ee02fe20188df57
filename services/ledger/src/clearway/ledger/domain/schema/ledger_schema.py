"""A whole ledger schema, checked as a unit: every path an entry type names must be declared."""

from __future__ import annotations

import re

from pydantic import Field, PrivateAttr, model_validator

from clearway.ledger.domain.schema.errors import UnknownEntryType
from clearway.ledger.domain.schema.model import (
    CURRENCY_CODE,
    AccountSpec,
    EntryTypeSpec,
    SchemaPart,
)
from clearway.ledger.domain.schema.paths import split_template

ACCOUNTS_MAX = 500
ENTRY_TYPES_MAX = 200
SCHEMA_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")


class LedgerSchema(SchemaPart):
    key: str
    version: int = Field(ge=1)
    accounts: list[AccountSpec] = Field(min_length=1, max_length=ACCOUNTS_MAX)
    entry_types: list[EntryTypeSpec] = Field(default_factory=list, max_length=ENTRY_TYPES_MAX)
    _accounts_by_prefix: dict[str, AccountSpec] = PrivateAttr(default_factory=dict)
    _entry_types_by_name: dict[str, EntryTypeSpec] = PrivateAttr(default_factory=dict)

    def entry_type(self, name: str) -> EntryTypeSpec:
        spec = self._entry_types_by_name.get(name)
        if spec is None:
            raise UnknownEntryType(
                f"schema {self.key} v{self.version} has no entry type {name[:80]!r}", entry_type=name[:80]
            )
        return spec

    def find_account(self, path: str) -> AccountSpec | None:
        """The declared account a path refers to: `assets/operating` itself, or for
        `liabilities/user_balances:usr_1` (or `:{{user_id}}`) the template it instantiates.
        """
        prefix, key = split_template(path)
        account = self._accounts_by_prefix.get(prefix)
        if account is None or account.flags.template != (key is not None) or key == "":
            return None
        return account

    @model_validator(mode="after")
    def _check(self) -> LedgerSchema:
        if SCHEMA_KEY.fullmatch(self.key) is None:
            raise ValueError(f"schema key {self.key!r} must be a snake_case name")
        self._accounts_by_prefix = _index_accounts(self.accounts)
        self._entry_types_by_name = _index_entry_types(self.entry_types)
        for entry_type in self.entry_types:
            self._check_references(entry_type)
        return self

    def _check_references(self, entry_type: EntryTypeSpec) -> None:
        for number, line in enumerate(entry_type.lines, start=1):
            where = f"entry type {entry_type.type!r} line {number}"
            account = self._require_account(line.account, where)
            fixed = line.currency if line.currency and CURRENCY_CODE.fullmatch(line.currency) else None
            if fixed and account.currency and fixed != account.currency:
                raise ValueError(f"{where}: currency {fixed} differs from account currency {account.currency}")
        for number, condition in enumerate(entry_type.conditions, start=1):
            self._require_account(condition.account, f"entry type {entry_type.type!r} condition {number}")

    def _require_account(self, path: str, where: str) -> AccountSpec:
        account = self.find_account(path)
        if account is not None:
            return account
        prefix, _ = split_template(path)
        declared = self._accounts_by_prefix.get(prefix)
        if declared is None:
            raise ValueError(f"{where}: account {path!r} is not declared in the schema")
        if declared.flags.template:
            raise ValueError(f"{where}: account {path!r} must name an instance, like '{prefix}:{{{{id}}}}'")
        raise ValueError(f"{where}: account {path!r} is not a template account, so it takes no ':key'")


def _index_accounts(accounts: list[AccountSpec]) -> dict[str, AccountSpec]:
    by_prefix: dict[str, AccountSpec] = {}
    for account in accounts:
        # Prefixes, not full paths: `x` and `x:{{id}}` side by side would make `x` ambiguous to readers.
        if account.prefix in by_prefix:
            raise ValueError(f"account path {account.prefix!r} is declared more than once")
        by_prefix[account.prefix] = account
    return by_prefix


def _index_entry_types(entry_types: list[EntryTypeSpec]) -> dict[str, EntryTypeSpec]:
    by_name: dict[str, EntryTypeSpec] = {}
    for entry_type in entry_types:
        if entry_type.type in by_name:
            raise ValueError(f"entry type {entry_type.type!r} is declared more than once")
        by_name[entry_type.type] = entry_type
    return by_name
