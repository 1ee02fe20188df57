"""Balance monitors: a condition on one balance field, announced once each time it becomes true."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from clearway.ledger.domain.balances import BalanceState

OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Monitor:
    monitor_id: str
    balance_id: str
    field: str
    operator: str
    value_minor: int
    is_triggered: bool


def field_value(state: BalanceState, field: str) -> int:
    value = getattr(state, field)
    assert isinstance(value, int), field
    return value


def crossings(monitors: list[Monitor], balances: dict[str, BalanceState]) -> list[tuple[Monitor, bool]]:
    """Monitors whose condition changed state; `True` means it just became true (fire)."""
    changed = []
    for monitor in monitors:
        state = balances.get(monitor.balance_id)
        if state is None or not state.touched:
            continue
        now_true = OPERATORS[monitor.operator](field_value(state, monitor.field), monitor.value_minor)
        if now_true != monitor.is_triggered:
            changed.append((monitor, now_true))
    return changed
