"""Path patterns for listing, natural balances and clearing status."""

from __future__ import annotations

import pytest

from clearway.ledger.domain.schema import (
    AccountType,
    InvalidPathPattern,
    clearing_status,
    clearing_status_across,
    natural_balance,
    path_matches,
    split_template,
)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("liabilities/bulk_receivables", "liabilities/bulk_receivables", True),
        ("liabilities/bulk_receivables", "liabilities/bulk_receivables_2", False),
        ("liabilities/pending_withdrawals:*", "liabilities/pending_withdrawals:wd_123", True),
        ("liabilities/pending_withdrawals:*", "liabilities/pending_withdrawals", False),
        ("liabilities/pending_withdrawals:*", "liabilities/pending_withdrawals_old:wd_1", False),
        ("liabilities/pending_withdrawals:wd_*", "liabilities/pending_withdrawals:wd_9", True),
        ("liabilities/pending_withdrawals:wd_*", "liabilities/pending_withdrawals:x_9", False),
        ("liabilities/*", "liabilities/user_balances:u1", True),
        ("liabilities/*", "liabilities/a/b", False),  # a wildcard never crosses '/'
        ("*/operating", "assets/operating", True),
        ("assets/operating", "assets/operatin", False),
        ("assets/op.rating", "assets/operating", False),  # '.' is literal, not a regex
    ],
)
def test_path_matches(pattern: str, path: str, expected: bool) -> None:
    assert path_matches(pattern, path) is expected


@pytest.mark.parametrize("pattern", ["", "assets/(x)", "a" * 600, "*/" * 9 + "x", "assets/[a-z]"])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidPathPattern):
        path_matches(pattern, "assets/operating")


def test_split_template() -> None:
    assert split_template("liabilities/x:{{id}}") == ("liabilities/x", "{{id}}")
    assert split_template("assets/operating") == ("assets/operating", None)


@pytest.mark.parametrize(
    ("account_type", "expected"),
    [("asset", 70), ("expense", 70), ("liability", -70), ("income", -70), ("equity", -70)],
)
def test_natural_balance(account_type: AccountType, expected: int) -> None:
    assert natural_balance(account_type, credit_minor_total=30, debit_minor_total=100) == expected


def test_clearing_status() -> None:
    assert clearing_status(0) == "cleared"
    assert clearing_status(5) == "pending"
    assert clearing_status(-5) == "pending"
    assert clearing_status_across([0, 0]) == "cleared"
    assert clearing_status_across([0, 3]) == "pending"
    assert clearing_status_across([]) == "cleared"
