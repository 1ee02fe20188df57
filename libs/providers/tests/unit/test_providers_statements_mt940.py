"""Bank statement import, SWIFT MT940 (read with the `mt-940` package): lines, reversals, balances, refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clearway.providers.bank.statements import Statement, StatementBalance, StatementInvalid, parse_statement

FIXTURES = Path(__file__).parents[1] / "fixtures" / "statements"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rows(statement: Statement) -> list[tuple[object, ...]]:
    return [
        (line.external_id, line.booked_on, line.direction, line.amount_minor, line.currency, line.reference)
        for line in statement.lines
    ]


def mt940(*lines: str, account: str = "DE89370400440532013000", opening: str = ":60F:C260301EUR100,00") -> bytes:
    body = [":20:STMT1", f":25:{account}", ":28C:00001/001", opening, *lines]
    return "\n".join(body).encode() + b"\n"


def test_mt940_fixture_parses_lines_reversals_and_balances() -> None:
    statement = parse_statement(fixture("mt940.sta"), "mt940")

    assert statement.account_id == "DE89370400440532013000"
    assert statement.statement_id == "00061/001..00062/001"  # two :20: blocks of one account, joined
    assert statement.opening_balance == StatementBalance(1_250_000, "EUR", date(2026, 3, 1))
    assert statement.closing_balance == StatementBalance(1_344_700, "EUR", date(2026, 3, 3))
    march_2, march_3 = date(2026, 3, 2), date(2026, 3, 3)
    assert rows(statement) == [
        ("COBA2603020001", march_2, "inbound", 125000, "EUR", "wd01HX4K2M9Q"),  # EREF+ of the structured :86:
        # no // bank reference: the content hash, pinned because a change would re-import old lines
        ("h:3f82fbe16a7fd323abfdafe0398f5f2a", march_2, "outbound", 30050, "EUR", "Card settlement fees February"),
        ("COBA2603020003", march_2, "outbound", 98000, "EUR", "po01HX5A7B2C"),
        ("COBA2603030004", march_3, "inbound", 98000, "EUR", "po01HX5A7B2C"),  # RD: the payout came back
        ("h:73d448f9c7fb86e3e7e2636a4ee14c75", march_3, "outbound", 250, "EUR", "Account fee"),
    ]
    descriptions = [line.description for line in statement.lines]
    assert descriptions[0] == "SEPA-GUTSCHRIFT / Wallet top-up / ACME GMBH"
    assert descriptions[3] == "/RTRN/AC04/EREF/po01HX5A7B2C/REMI/Return of payout, account closed/NAME/JANE DOE/"
    assert statement.opening_balance.amount_minor + sum(line.signed_amount_minor for line in statement.lines) == (
        statement.closing_balance.amount_minor
    )


def test_a_reversal_of_a_credit_is_outbound_and_its_own_line() -> None:
    statement = parse_statement(fixture("mt940_overlap.sta"), "mt940")

    credit, reversal = statement.lines[-2:]
    assert (credit.direction, reversal.direction) == ("inbound", "outbound")
    assert (credit.external_id, reversal.external_id) == ("COBA2603040001", "COBA2603040002")
    assert credit.amount_minor == reversal.amount_minor == 4000


def test_mt940_ids_are_stable_across_reimports_and_overlapping_files() -> None:
    first = parse_statement(fixture("mt940.sta"), "mt940")
    again = parse_statement(fixture("mt940.sta"), "mt940")
    overlap = parse_statement(fixture("mt940_overlap.sta"), "mt940")

    assert rows(again) == rows(first)
    assert rows(overlap)[:2] == rows(first)[3:]  # 3 March is in both files: same ids, the hashed one too
    assert {line.external_id for line in overlap.lines} - {line.external_id for line in first.lines} == {
        "COBA2603040001",
        "COBA2603040002",
    }


def test_the_entry_date_is_the_booking_day_and_precision_follows_the_currency() -> None:
    statement = parse_statement(
        mt940(":61:2603310401C1500,NTRFNONREF//B1", ":62F:C260401JPY1600,", opening=":60F:C260331JPY100,"),
        "mt940",
    )

    assert rows(statement) == [("B1", date(2026, 4, 1), "inbound", 1500, "JPY", None)]
    assert statement.closing_balance == StatementBalance(1600, "JPY", date(2026, 4, 1))


def test_a_text_in_latin_1_is_read_and_a_debit_balance_is_negative() -> None:
    body = mt940(
        ":61:2603020302D10,00NMSCNONREF//B1", ":86:Gebühr März", ":62F:D260302EUR10,00", opening=":60F:C260301EUR0,00"
    )

    statement = parse_statement(body.decode().encode("latin-1"), "mt940")

    assert statement.lines[0].description == "Gebühr März"
    assert statement.closing_balance == StatementBalance(-1000, "EUR", date(2026, 3, 2))


def test_a_bank_reference_repeated_in_one_file_does_not_hide_a_line() -> None:
    body = mt940(":61:2603020302D1,00NMSCNONREF//SAME", ":61:2603020302D2,00NCHGNONREF//SAME", ":62F:C260302EUR97,00")

    ids = [line.external_id for line in parse_statement(body, "mt940").lines]
    assert len(set(ids)) == 2 and all(external_id.startswith("SAME/") for external_id in ids)


def test_a_body_naming_a_file_is_not_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "statement.sta"
    path.write_bytes(fixture("mt940.sta"))

    with pytest.raises(StatementInvalid, match="not an MT940 statement"):
        parse_statement(str(path).encode(), "mt940")


TRUNCATED = fixture("mt940.sta").split(b":62F:C260303")[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (TRUNCATED, "statement 2 (:20:STMT260303): no closing balance (:62F: or :62M:); the file looks truncated"),
        (fixture("mt940.sta")[:400], "the file looks truncated"),
        (mt940(":61:26030", ":62F:C260302EUR100,00"), "MT940 :61: field '26030' does not match the SWIFT format"),
        (mt940(":62F:C260302EUR100,00", opening=""), "statement 1 (:20:STMT1): no opening balance (:60F: or :60M:)"),
        (b"just some text\n", "not an MT940 statement: no :20:"),
        (
            mt940(":61:2603020302C1250,001NTRFNONREF//B1", ":62F:C260302EUR100,00"),
            ":61: line 1 amount: 1250.001 has more decimal places than EUR allows (2)",
        ),
        (
            mt940(":61:2603020302C5,5NTRFNONREF//B1", ":62F:C260302JPY100,", opening=":60F:C260301JPY100,"),
            "5.5 has more decimal places than JPY allows (0)",
        ),
        (mt940(":62F:C260302EUX100,00", opening=":60F:C260301EUX100,00"), ":60: currency: 'EUX' is not an ISO 4217"),
        (
            mt940(":61:2603020302C1,00NTRFNONREF//B1", ":62F:C260302EUR101,00")
            + b":20:STMT2\n:25:DE89370400440532013000\n",
            "statement 2 (:20:STMT2): no opening balance",
        ),
    ],
)
def test_malformed_mt940_is_refused_with_a_useful_message(body: bytes, message: str) -> None:
    with pytest.raises(StatementInvalid) as raised:
        parse_statement(body, "mt940")

    assert message in str(raised.value)


def test_statements_of_two_accounts_in_one_file_are_refused() -> None:
    first = mt940(":61:2603020302C1,00NTRFNONREF//B1", ":62F:C260302EUR101,00")
    second = mt940(":62F:C260302EUR100,00", account="GB33BUKB20201555555555")

    with pytest.raises(StatementInvalid, match="statements of 2 accounts"):
        parse_statement(first + second, "mt940")
