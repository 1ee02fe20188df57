"""Amounts from minor units per currency, times as <time> elements, and list pages' URLs."""

from __future__ import annotations

from clearway.console.formatting import count_label, group_thousands, money, time_element
from clearway.console.views.pages import ListPage


def test_amounts_use_the_currencys_minor_units() -> None:
    assert money(150_000, "KES") == "KES 1,500.00"
    assert money(5, "USD") == "USD 0.05"
    assert money(-123_456_789, "EUR") == "EUR -1,234,567.89"
    assert money(1_500, "JPY") == "JPY 1,500"  # no minor unit
    assert money(1_234_567, "BHD") == "BHD 1,234.567"  # three
    assert money("2500", "KES") == "KES 25.00"  # a JSON string amount


def test_an_unknown_currency_or_a_missing_amount_is_shown_as_such() -> None:
    assert money(1_000, "XQQ") == "1,000 XQQ (minor units)"
    assert money(None, "KES") == "—"


def test_thousands_grouping_keeps_the_sign_and_fraction() -> None:
    assert group_thousands("-1234567.50") == "-1,234,567.50"
    assert group_thousands("999") == "999"


def test_times_are_utc_in_the_markup_with_utc_on_hover() -> None:
    rendered = str(time_element("2026-11-29T13:45:00.123456+03:00"))
    assert 'datetime="2026-11-29T10:45:00.123456Z"' in rendered
    assert 'title="2026-11-29 10:45:00 UTC"' in rendered
    assert str(time_element(None)) == "—"


def test_counts_past_a_page_read_plus() -> None:
    assert count_label(3, False) == "3"
    assert count_label(100, True) == "100+"


def test_a_list_page_keeps_its_filters_in_the_next_and_first_urls() -> None:
    answer = {"data": [{"id": "wd_1"}, {"id": "wd_2"}], "has_more": True}
    page = ListPage.of(answer, "/payouts/withdrawals", {"status": "failed", "user": None}, cursor="wd_0")
    assert page.next_url == "/payouts/withdrawals?status=failed&starting_after=wd_2"
    assert page.first_url == "/payouts/withdrawals?status=failed"
    last = ListPage.of({"data": [{"id": "wd_3"}], "has_more": False}, "/payouts/withdrawals", {}, cursor=None)
    assert (last.next_url, last.first_url) == (None, None)


def test_ledger_amounts_follow_the_balances_precision() -> None:
    from clearway.console.views.ledger import ledger_amount

    assert ledger_amount(100_000, "KES", 100) == "KES 1,000.00"
    assert ledger_amount(-75_050, "KES", 100) == "KES -750.50"
    assert ledger_amount(123_456, "USD", 10_000) == "USD 12.3456"  # a ledger keeping more digits
    assert ledger_amount(None, "USD", 100) == "—"
