"""Bank statement import, CSV layout, and what every format shares (dispatch, errors, the line type)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clearway.providers.bank.statements import (
    LINES_MAX,
    StatementFormat,
    StatementInvalid,
    StatementLine,
    parse_statement,
)
from clearway.providers.errors import ProviderError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "statements"
HEADER = "booked_on,direction,amount_minor,currency,reference,external_id,description\n"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_body(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(f"{row}\n" for row in rows)).encode()


def test_csv_fixture_parses_every_line_with_its_fields() -> None:
    statement = parse_statement(fixture("statement.csv"), StatementFormat.CSV)

    assert statement.format is StatementFormat.CSV
    assert (statement.account_id, statement.statement_id) == (None, None)
    assert (statement.opening_balance, statement.closing_balance) == (None, None)
    rows = [
        (line.booked_on, line.direction, line.amount_minor, line.currency, line.reference, line.description)
        for line in statement.lines
    ]
    assert rows == [
        (date(2026, 3, 2), "inbound", 125000, "EUR", "wd_01HX4K2M9Q", "Top-up from ACME GmbH"),
        (date(2026, 3, 2), "outbound", 98000, "EUR", "po_01HX5A7B2C", "Payout to Jane Doe, invoice 42"),
        (date(2026, 3, 2), "outbound", 250, "EUR", None, "Account fee"),
        (date(2026, 3, 2), "outbound", 250, "EUR", None, "Account fee"),
        (date(2026, 3, 3), "inbound", 98000, "EUR", "po_01HX5A7B2C", "Returned payout (AC04 account closed)"),
    ]
    ids = [line.external_id for line in statement.lines]
    assert ids[:2] == ["BNK-20260302-0001", "BNK-20260302-0002"]  # the file's own ids, as they are
    assert all(external_id.startswith("h:") and len(external_id) == 34 for external_id in ids[2:])


def test_identical_looking_csv_lines_get_distinct_ids() -> None:
    statement = parse_statement(fixture("statement.csv"), "csv")
    first_fee, second_fee = statement.lines[2], statement.lines[3]

    assert first_fee.amount_minor == second_fee.amount_minor and first_fee.description == second_fee.description
    assert first_fee.external_id != second_fee.external_id
    assert len({line.external_id for line in statement.lines}) == len(statement.lines)


def test_csv_ids_are_stable_across_reimports_and_overlapping_files() -> None:
    first = parse_statement(fixture("statement.csv"), "csv")
    again = parse_statement(fixture("statement.csv"), "csv")
    overlap = parse_statement(fixture("statement_overlap.csv"), "csv")

    assert [line.external_id for line in again.lines] == [line.external_id for line in first.lines]
    # The overlapping file repeats the two fees of 2 March and the return of 3 March: same ids, so a
    # re-import adds only the new top-up of 4 March.
    assert [line.external_id for line in overlap.lines[:3]] == [line.external_id for line in first.lines[2:]]
    new = {line.external_id for line in overlap.lines} - {line.external_id for line in first.lines}
    assert new == {"BNK-20260304-0001"}


def test_csv_tolerates_a_byte_order_mark_crlf_and_blank_lines_and_keeps_minor_units_per_currency() -> None:
    body = "\ufeff" + HEADER.replace("\n", "\r\n")
    body += "2026-03-02,inbound,1500,JPY,,,Yen top-up\r\n\r\n2026-03-02,outbound,5,KWD,ref-1,,\r\n\r\n"

    statement = parse_statement(body.encode(), "csv")

    assert [(line.amount_minor, line.currency) for line in statement.lines] == [(1500, "JPY"), (5, "KWD")]
    assert statement.lines[1].reference == "ref-1" and statement.lines[1].description is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (csv_body("2026-03-02,inbound,100,EUR,,,x", header=""), "line 1 must be the header row booked_on,direction"),
        (
            csv_body(
                header="booked_on,direction,amount_minor,currency,reference,external_id,description,counterparty\n"
            ),
            "unexpected column(s) 'counterparty'",
        ),
        (
            csv_body(header="booked_on,direction,amount_minor,currency,reference,external_id\n"),
            "missing column(s) description",
        ),
        (
            csv_body(header="direction,booked_on,amount_minor,currency,reference,external_id,description\n"),
            "the columns are in another order",
        ),
        (csv_body("2026-03-02,inbound,-500,EUR,,,x"), "line 2: amount_minor '-500' must be a positive integer"),
        (csv_body("2026-03-02,inbound,12.50,EUR,,,x"), "line 2: amount_minor '12.50' must be a positive integer"),
        (csv_body("2026-03-02,inbound,0,EUR,,,x"), "line 2: amount_minor '0' must be a positive integer"),
        (csv_body("2026-03-02,inbound,100,EURO,,,x"), "line 2: currency: 'EURO' is not an ISO 4217 currency"),
        (csv_body("2026-03-02,inbound,100,eur,,,x"), "line 2: currency: 'eur' is not an ISO 4217 currency"),
        (csv_body("2026-03-02,inbound,100,XAU,,,x"), "'XAU' is not an ISO 4217 currency code with minor units"),
        (csv_body("2026-03-02,credit,100,EUR,,,x"), "line 2: direction 'credit' must be inbound or outbound"),
        (csv_body("02/03/2026,inbound,100,EUR,,,x"), "line 2: booked_on '02/03/2026' is not an ISO date"),
        (csv_body("2026-02-30,inbound,100,EUR,,,x"), "line 2: booked_on '2026-02-30' is not a calendar date"),
        (csv_body("2026-03-02,inbound,100,EUR,,x"), "line 2: 6 fields, expected 7"),
        (
            csv_body("2026-03-02,inbound,100,EUR,,A-1,x", "2026-03-03,inbound,100,EUR,,A-1,y"),
            "line 3: external_id 'A-1' was already used on line 2",
        ),
        (csv_body('2026-03-02,inbound,100,EUR,"unterminated,,x'), "malformed CSV"),
        (HEADER.encode() + "2026-03-02,inbound,100,EUR,,,Gebühr\n".encode("latin-1"), "not UTF-8"),
        (b"", "the statement file is empty"),
    ],
)
def test_malformed_csv_is_refused_with_a_useful_message(body: bytes, message: str) -> None:
    with pytest.raises(StatementInvalid) as raised:
        parse_statement(body, "csv")

    assert message in str(raised.value)


def test_more_than_lines_max_lines_is_refused() -> None:
    body = HEADER + "2026-03-02,inbound,1,EUR,,,\n" * (LINES_MAX + 1)

    with pytest.raises(StatementInvalid, match="more than 100,000 lines"):
        parse_statement(body.encode(), "csv")


def test_statement_invalid_is_a_provider_error_and_a_value_error_with_a_stable_code() -> None:
    with pytest.raises(StatementInvalid) as raised:
        parse_statement(b"nonsense", "csv")

    assert isinstance(raised.value, ProviderError) and isinstance(raised.value, ValueError)
    assert raised.value.code == "STATEMENT_INVALID" and raised.value.retryable is False


@pytest.mark.parametrize("statement_format", ["ofx", "CSV", ""])
def test_an_unknown_format_is_refused(statement_format: str) -> None:
    with pytest.raises(StatementInvalid, match="expected one of csv, camt053, mt940"):
        parse_statement(csv_body(), statement_format)


def test_a_statement_line_holds_its_invariants() -> None:
    line = StatementLine("x", date(2026, 3, 2), "outbound", 250, "EUR", None, None)
    assert line.signed_amount_minor == -250
    with pytest.raises(ValueError, match="amount_minor"):
        StatementLine("x", date(2026, 3, 2), "outbound", 0, "EUR", None, None)
