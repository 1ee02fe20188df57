"""Checking an entry's balance conditions (FRAGMENT `precondition` / `postcondition`)."""

from __future__ import annotations

from collections.abc import Mapping

from clearway.ledger.domain.schema.entry import ResolvedCondition, ResolvedEntry


def own_balance_deltas(entry: ResolvedEntry) -> dict[tuple[str, str], int]:
    """(account_path, currency) -> change of its own (natural-sign) balance if `entry` posts.

    With FRAGMENT's sign convention that is simply the sum of the amounts written.
    """
    deltas: dict[tuple[str, str], int] = {}
    for line in entry.lines:
        slot = (line.account_path, line.currency)
        deltas[slot] = deltas.get(slot, 0) + line.amount_minor
    return deltas


def check_conditions(
    entry: ResolvedEntry,
    own_balances_before: Mapping[str, int],
    own_balances_after: Mapping[str, int],
) -> list[str]:
    """Violated conditions as readable sentences; empty when the entry may post.

    Balances are keyed by filled account path, in natural sign and in each condition's
    `currency`. An account missing from a mapping has never been posted to, so it counts as zero.
    """
    violations: list[str] = []
    for condition in entry.conditions:
        balances = own_balances_before if condition.phase == "precondition" else own_balances_after
        balance = balances.get(condition.account_path, 0)
        violations.extend(_violations(condition, balance))
    return violations


def _violations(condition: ResolvedCondition, balance: int) -> list[str]:
    subject = f"{condition.phase} on {condition.account_path} ({condition.currency}): own balance {balance}"
    found: list[str] = []
    if condition.eq_minor is not None and balance != condition.eq_minor:
        found.append(f"{subject} must equal {condition.eq_minor}")
    if condition.gte_minor is not None and balance < condition.gte_minor:
        found.append(f"{subject} must be at least {condition.gte_minor}")
    if condition.lte_minor is not None and balance > condition.lte_minor:
        found.append(f"{subject} must be at most {condition.lte_minor}")
    return found
