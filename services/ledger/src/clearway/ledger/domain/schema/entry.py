"""A schema entry with every parameter filled in: the lines the ledger will write.

FRAGMENT's sign convention: a positive amount increases the account's natural balance. Asset and
expense accounts are debit-normal, the others credit-normal, so a line's debit or credit follows
from its account type and sign. An entry balances when, per currency, debits equal credits
(equivalently: assets + expenses move by as much as liabilities + income + equity). The check
runs whenever a `ResolvedEntry` is constructed, so an unbalanced entry cannot exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX
from clearway.ledger.domain.schema.errors import EmptyEntry, UnbalancedEntry
from clearway.ledger.domain.schema.model import DEBIT_NORMAL_TYPES, AccountFlags, AccountType, ConditionPhase


@dataclass(frozen=True, slots=True)
class ResolvedLine:
    account_path: str  # filled: "liabilities/pending_withdrawals:wd_123"
    template_path: str  # as declared: "liabilities/pending_withdrawals:{{withdrawal_id}}"
    account_type: AccountType
    flags: AccountFlags
    amount_minor: int  # signed, as written: positive increases the natural balance
    currency: str
    key: str | None = None

    def __post_init__(self) -> None:
        assert type(self.amount_minor) is int, "amount_minor must be an int"
        assert self.amount_minor != 0, "zero-amount lines are dropped before they are built"
        assert abs(self.amount_minor) <= AMOUNT_MINOR_MAX, "amount out of range"

    @property
    def is_debit_normal(self) -> bool:
        return self.account_type in DEBIT_NORMAL_TYPES

    @property
    def debit_minor(self) -> int:
        signed = self.amount_minor if self.is_debit_normal else -self.amount_minor
        return max(signed, 0)

    @property
    def credit_minor(self) -> int:
        signed = -self.amount_minor if self.is_debit_normal else self.amount_minor
        return max(signed, 0)

    def negated(self) -> ResolvedLine:
        return replace(self, amount_minor=-self.amount_minor)


@dataclass(frozen=True, slots=True)
class ResolvedCondition:
    """A bound on an account's own balance (natural sign, in `currency`) before or after posting."""

    account_path: str
    currency: str
    phase: ConditionPhase
    eq_minor: int | None = None
    gte_minor: int | None = None
    lte_minor: int | None = None


@dataclass(frozen=True, slots=True)
class ResolvedEntry:
    schema_key: str
    schema_version: int
    entry_type: str
    lines: tuple[ResolvedLine, ...]
    parameters: Mapping[str, str] = field(default_factory=dict)
    conditions: tuple[ResolvedCondition, ...] = ()
    is_reversal: bool = False

    def __post_init__(self) -> None:
        if not self.lines:
            raise EmptyEntry(f"entry type {self.entry_type!r} has no non-zero lines", entry_type=self.entry_type)
        check_balanced(self.lines, self.entry_type)

    @property
    def touches_linked_account(self) -> bool:
        """Linked (bank-backed) accounts may only move by reconciling an external transaction."""
        return any(line.flags.linked for line in self.lines)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.currency for line in self.lines))

    @property
    def account_paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(line.account_path for line in self.lines))

    def totals_by_currency(self) -> dict[str, tuple[int, int]]:
        """Currency -> (debits, credits) in minor units."""
        return totals_by_currency(self.lines)


def totals_by_currency(lines: Iterable[ResolvedLine]) -> dict[str, tuple[int, int]]:
    totals: dict[str, tuple[int, int]] = {}
    for line in lines:
        debits, credits = totals.get(line.currency, (0, 0))
        totals[line.currency] = (debits + line.debit_minor, credits + line.credit_minor)
    return totals


def check_balanced(lines: Iterable[ResolvedLine], entry_type: str) -> None:
    for currency, (debits, credits) in totals_by_currency(lines).items():
        if debits != credits:
            raise UnbalancedEntry(
                f"entry type {entry_type!r} does not balance in {currency}: debits {debits} != credits "
                f"{credits} (asset and expense amounts must equal liability, income and equity amounts)",
                entry_type=entry_type,
                currency=currency,
                debit_minor=debits,
                credit_minor=credits,
            )


def reverse_entry(entry: ResolvedEntry) -> ResolvedEntry:
    """The same lines with opposite amounts. The original's conditions are dropped: they bound
    the balances that entry produces, not the ones its reversal restores.
    """
    return replace(
        entry,
        lines=tuple(line.negated() for line in entry.lines),
        conditions=(),
        is_reversal=True,
    )
