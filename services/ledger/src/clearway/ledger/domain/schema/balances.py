"""Natural balances and the clearing status FRAGMENT reports for clearing accounts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from clearway.ledger.domain.schema.model import DEBIT_NORMAL_TYPES, AccountType

ClearingStatus = Literal["pending", "cleared"]


def natural_balance(account_type: AccountType, credit_minor_total: int, debit_minor_total: int) -> int:
    """The balance in the account's own sign: debits minus credits for assets and expenses,
    credits minus debits for liabilities, income and equity. Pass the totals by keyword.
    """
    assert credit_minor_total >= 0 and debit_minor_total >= 0, "totals are sums of unsigned sides"
    if account_type in DEBIT_NORMAL_TYPES:
        return debit_minor_total - credit_minor_total
    return credit_minor_total - debit_minor_total


def clearing_status(balance: int) -> ClearingStatus:
    """A clearing account is pending while it holds anything (either sign), cleared at zero."""
    return "cleared" if balance == 0 else "pending"


def clearing_status_across(balances: Iterable[int]) -> ClearingStatus:
    """Multi-currency clearing accounts are pending if any currency's balance is non-zero."""
    return "pending" if any(balance != 0 for balance in balances) else "cleared"
