"""A balance's running totals and the one rule about spending from it.

Blnk semantics: `balance = credit_balance - debit_balance`; holds live in the inflight
buckets; what a balance can spend is `balance - inflight_debit_balance`, and an overdraft
limit caps how far below zero that may go.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BalanceState:
    balance_id: str
    currency: str
    credit_balance: int = 0
    debit_balance: int = 0
    inflight_credit_balance: int = 0
    inflight_debit_balance: int = 0
    version: int = 0
    touched: bool = field(default=False, compare=False)

    @property
    def balance(self) -> int:
        return self.credit_balance - self.debit_balance

    @property
    def inflight_balance(self) -> int:
        return self.inflight_credit_balance - self.inflight_debit_balance

    @property
    def available(self) -> int:
        return self.balance - self.inflight_debit_balance

    def copy(self) -> BalanceState:
        return BalanceState(
            balance_id=self.balance_id,
            currency=self.currency,
            credit_balance=self.credit_balance,
            debit_balance=self.debit_balance,
            inflight_credit_balance=self.inflight_credit_balance,
            inflight_debit_balance=self.inflight_debit_balance,
            version=self.version,
            touched=self.touched,
        )

    def assert_consistent(self) -> None:
        assert self.credit_balance >= 0 and self.debit_balance >= 0, self
        assert self.inflight_credit_balance >= 0 and self.inflight_debit_balance >= 0, self


def can_spend(
    available_minor: int, amount_minor: int, *, allow_overdraft: bool, overdraft_limit_minor: int | None
) -> bool:
    """Whether a debit of `amount_minor` fits.

    Without overdraft the available balance must cover it. With overdraft and no limit,
    anything goes (the seed's `@World` style sources); with a limit, available may fall
    to `-overdraft_limit_minor` and no further.
    """
    assert amount_minor > 0
    remaining = available_minor - amount_minor
    if not allow_overdraft:
        return remaining >= 0
    if overdraft_limit_minor is None:
        return True
    return remaining >= -overdraft_limit_minor
