"""Posting an entry type: templates, amounts, currencies, balancing, debit/credit and reversal."""

from __future__ import annotations

from typing import Any

import pytest

from clearway.ledger.domain.schema import (
    AccountFlags,
    AmountOutOfRange,
    CurrencyMismatch,
    CurrencyRequired,
    EmptyEntry,
    InvalidParameter,
    LedgerSchema,
    MissingParameter,
    ResolvedEntry,
    ResolvedLine,
    UnbalancedEntry,
    UnknownEntryType,
    build_entry,
    parse_schema_object,
    reverse_entry,
)


def schema_with(*entry_types: dict[str, Any]) -> LedgerSchema:
    return parse_schema_object(
        {
            "key": "sample",
            "version": 3,
            "accounts": [
                {"path": "assets/operating", "type": "asset", "flags": {"linked": True}},
                {"path": "assets/receivables:{{card_id}}", "type": "asset", "flags": {"template": True}},
                {
                    "path": "liabilities/pending_withdrawals:{{withdrawal_id}}",
                    "type": "liability",
                    "flags": {"clearing": True, "template": True},
                },
                {"path": "liabilities/users:{{user_id}}", "type": "liability", "flags": {"template": True}},
                {"path": "income/fees", "type": "income"},
                {"path": "expense/processing", "type": "expense"},
                {"path": "equity/capital", "type": "equity"},
                {"path": "assets/euro_float", "type": "asset", "currency": "EUR"},
            ],
            "entry_types": list(entry_types),
        }
    )


def line(account: str, amount: str, **extra: str) -> dict[str, str]:
    return {"account": account, "amount": amount, **extra}


PAY_IN = {
    "type": "pay_in",
    "description": "gross in, fee kept",
    "lines": [
        line("assets/operating", "{{gross}}"),
        line("liabilities/users:{{user_id}}", "{{gross}} - {{fee}}", key="user"),
        line("income/fees", "{{fee}}"),
    ],
}
WITHDRAW = {
    "type": "initiate",
    "lines": [
        line("liabilities/users:{{user_id}}", "-{{amount}}"),
        line("liabilities/pending_withdrawals:wd_{{withdrawal_id}}", "{{amount}}"),
    ],
}


def test_fills_templates_and_evaluates_amounts() -> None:
    entry = build_entry(schema_with(PAY_IN), "pay_in", {"gross": "1000", "fee": "30", "user_id": "usr_1"}, "USD")
    assert [(item.account_path, item.template_path, item.amount_minor) for item in entry.lines] == [
        ("assets/operating", "assets/operating", 1000),
        ("liabilities/users:usr_1", "liabilities/users:{{user_id}}", 970),
        ("income/fees", "income/fees", 30),
    ]
    assert entry.lines[1].key == "user"
    assert (entry.schema_key, entry.schema_version, entry.entry_type) == ("sample", 3, "pay_in")
    assert dict(entry.parameters) == {"gross": "1000", "fee": "30", "user_id": "usr_1"}
    assert entry.touches_linked_account
    assert entry.totals_by_currency() == {"USD": (1000, 1000)}


def test_template_key_can_mix_literal_text_and_parameters() -> None:
    entry = build_entry(schema_with(WITHDRAW), "initiate", {"amount": "5", "user_id": "u", "withdrawal_id": "9"}, "USD")
    assert entry.lines[1].account_path == "liabilities/pending_withdrawals:wd_9"
    assert entry.lines[1].flags == AccountFlags(clearing=True, template=True)
    assert not entry.touches_linked_account


@pytest.mark.parametrize("bad_id", ["a/b", "a:b", "a*", "", "a b", "x" * 129])
def test_template_values_that_would_break_paths_are_refused(bad_id: str) -> None:
    with pytest.raises(InvalidParameter, match="user_id"):
        build_entry(schema_with(WITHDRAW), "initiate", {"amount": "5", "user_id": bad_id, "withdrawal_id": "9"}, "USD")


def test_unbalanced_entry_is_refused_with_totals() -> None:
    lopsided = {"type": "lopsided", "lines": [line("assets/operating", "{{a}}"), line("income/fees", "{{b}}")]}
    with pytest.raises(UnbalancedEntry, match=r"'lopsided' does not balance in USD: debits 10 != credits 9") as raised:
        build_entry(schema_with(lopsided), "lopsided", {"a": "10", "b": "9"}, "USD")
    assert raised.value.extra == {"entry_type": "lopsided", "currency": "USD", "debit_minor": 10, "credit_minor": 9}


@pytest.mark.parametrize(
    ("account", "amount", "debit", "credit"),
    [
        ("assets/operating", 100, 100, 0),
        ("assets/operating", -100, 0, 100),
        ("expense/processing", 100, 100, 0),
        ("expense/processing", -100, 0, 100),
        ("liabilities/users:{{user_id}}", 100, 0, 100),
        ("liabilities/users:{{user_id}}", -100, 100, 0),
        ("income/fees", 100, 0, 100),
        ("income/fees", -100, 100, 0),
        ("equity/capital", 100, 0, 100),
        ("equity/capital", -100, 100, 0),
    ],
)
def test_debit_and_credit_follow_account_type_and_sign(account: str, amount: int, debit: int, credit: int) -> None:
    # Pair each line with a counter-line that makes the entry balance, then inspect the first.
    counter_amount = amount if account.startswith(("liabilities", "income", "equity")) else -amount
    pair = {
        "type": "pair",
        "lines": [line(account, "{{amount}}"), line("assets/receivables:c1", "{{counter}}")],
    }
    parameters = {"amount": str(amount), "counter": str(counter_amount), "user_id": "u1"}
    entry = build_entry(schema_with(pair), "pair", parameters, "USD")
    assert (entry.lines[0].debit_minor, entry.lines[0].credit_minor) == (debit, credit)


def test_zero_lines_are_dropped_and_an_all_zero_entry_is_refused() -> None:
    schema = schema_with(PAY_IN)
    entry = build_entry(schema, "pay_in", {"gross": "1000", "fee": "0", "user_id": "u"}, "USD")
    assert [item.account_path for item in entry.lines] == ["assets/operating", "liabilities/users:u"]
    with pytest.raises(EmptyEntry, match="no non-zero lines"):
        build_entry(schema, "pay_in", {"gross": "0", "fee": "0", "user_id": "u"}, "USD")


def test_missing_parameters_are_all_named() -> None:
    with pytest.raises(MissingParameter, match="needs parameter\\(s\\): gross, user_id") as raised:
        build_entry(schema_with(PAY_IN), "pay_in", {"fee": "1"}, "USD")
    assert raised.value.extra["parameters"] == ["gross", "user_id"]


def test_non_integer_amount_parameter_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="gross must be an integer"):
        build_entry(schema_with(PAY_IN), "pay_in", {"gross": "10.00", "fee": "1", "user_id": "u"}, "USD")


def test_unknown_entry_type() -> None:
    with pytest.raises(UnknownEntryType, match="schema sample v3 has no entry type 'nope'"):
        build_entry(schema_with(PAY_IN), "nope", {}, "USD")


def test_amount_out_of_range() -> None:
    with pytest.raises(AmountOutOfRange):
        build_entry(schema_with(PAY_IN), "pay_in", {"gross": str(10**18), "fee": "0", "user_id": "u"}, "USD")


def test_parameters_are_bounded() -> None:
    too_many = {f"p{index}": "1" for index in range(101)}
    with pytest.raises(InvalidParameter, match="at most 100"):
        build_entry(schema_with(PAY_IN), "pay_in", too_many, "USD")
    with pytest.raises(InvalidParameter, match="longer than"):
        build_entry(schema_with(PAY_IN), "pay_in", {"gross": "1", "fee": "0", "user_id": "u" * 300}, "USD")


class TestCurrency:
    def test_currency_default_applies_when_lines_and_accounts_give_none(self) -> None:
        entry = build_entry(schema_with(PAY_IN), "pay_in", {"gross": "5", "fee": "1", "user_id": "u"}, "KES")
        assert entry.currencies == ("KES",)

    def test_no_currency_anywhere_is_refused(self) -> None:
        with pytest.raises(CurrencyRequired, match=r"line 1 \(assets/operating\): no currency"):
            build_entry(schema_with(PAY_IN), "pay_in", {"gross": "5", "fee": "1", "user_id": "u"}, None)

    def test_currency_parameter_and_fixed_account_currency(self) -> None:
        fx = {
            "type": "fx",
            "lines": [
                line("assets/operating", "{{usd}}", currency="{{from}}"),
                line("liabilities/users:{{user_id}}", "{{usd}}", currency="USD"),
                line("assets/euro_float", "{{eur}}"),
                line("equity/capital", "{{eur}}", currency="EUR"),
            ],
        }
        parameters = {"usd": "110", "eur": "100", "user_id": "u", "from": "USD"}
        entry = build_entry(schema_with(fx), "fx", parameters, None)
        assert entry.totals_by_currency() == {"USD": (110, 110), "EUR": (100, 100)}
        with pytest.raises(InvalidParameter, match="'usd!' is not an ISO 4217"):
            build_entry(schema_with(fx), "fx", {**parameters, "from": "usd!"}, None)

    def test_each_currency_must_balance_on_its_own(self) -> None:
        cross = {
            "type": "cross",
            "lines": [line("assets/operating", "{{a}}", currency="USD"), line("income/fees", "{{a}}", currency="EUR")],
        }
        with pytest.raises(UnbalancedEntry, match="in USD"):
            build_entry(schema_with(cross), "cross", {"a": "5"}, None)

    def test_a_fixed_account_currency_beats_the_default_but_not_an_explicit_line_currency(self) -> None:
        float_in = {
            "type": "float_in",
            "lines": [line("assets/euro_float", "1", currency="{{cur}}"), line("equity/capital", "1", currency="EUR")],
        }
        assert build_entry(schema_with(float_in), "float_in", {"cur": "EUR"}, "USD").currencies == ("EUR",)
        with pytest.raises(CurrencyMismatch, match="differs from the account's fixed currency EUR"):
            build_entry(schema_with(float_in), "float_in", {"cur": "USD"}, "USD")


def test_reversal_negates_every_line_and_still_balances() -> None:
    entry = build_entry(schema_with(PAY_IN), "pay_in", {"gross": "1000", "fee": "30", "user_id": "u"}, "USD")
    reversal = reverse_entry(entry)
    assert [item.amount_minor for item in reversal.lines] == [-1000, -970, -30]
    assert [(item.debit_minor, item.credit_minor) for item in reversal.lines] == [(0, 1000), (970, 0), (30, 0)]
    assert reversal.is_reversal and not entry.is_reversal
    assert reversal.totals_by_currency() == {"USD": (1000, 1000)}
    assert reverse_entry(reversal).lines == entry.lines


def test_an_unbalanced_entry_cannot_even_be_constructed() -> None:
    lonely = ResolvedLine(
        account_path="assets/operating",
        template_path="assets/operating",
        account_type="asset",
        flags=AccountFlags(linked=True),
        amount_minor=5,
        currency="USD",
    )
    with pytest.raises(UnbalancedEntry):
        ResolvedEntry(schema_key="s", schema_version=1, entry_type="t", lines=(lonely,))
    with pytest.raises(EmptyEntry):
        ResolvedEntry(schema_key="s", schema_version=1, entry_type="t", lines=())
