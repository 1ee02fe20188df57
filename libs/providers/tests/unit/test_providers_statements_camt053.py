"""Bank statement import, ISO 20022 camt.053 (.001.02 and later): lines, balances, ids, refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from clearway.providers.bank.statements import Statement, StatementBalance, StatementInvalid, parse_statement

FIXTURES = Path(__file__).parents[1] / "fixtures" / "statements"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rows(statement: Statement) -> list[tuple[object, ...]]:
    return [
        (
            line.external_id,
            line.booked_on,
            line.direction,
            line.amount_minor,
            line.currency,
            line.reference,
            line.description,
        )
        for line in statement.lines
    ]


def balances_add_up(statement: Statement) -> bool:
    assert statement.opening_balance and statement.closing_balance
    moved = sum(line.signed_amount_minor for line in statement.lines)
    return statement.opening_balance.amount_minor + moved == statement.closing_balance.amount_minor


def entry(
    amount: str = "10.00",
    *,
    currency: str = "EUR",
    indicator: str = "CRDT",
    booked: str = "<BookgDt><Dt>2026-03-02</Dt></BookgDt>",
    reference: str = "<AcctSvcrRef>REF-1</AcctSvcrRef>",
    details: str = "",
) -> str:
    return (
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Sts>BOOK</Sts>'
        f"{booked}{reference}{details}</Ntry>"
    )


def camt(*entries: str, version: str = "08", iban: str = "DE89370400440532013000", statements: int = 1) -> bytes:
    statement = (
        f"<Stmt><Id>S-1</Id><Acct><Id><IBAN>{iban}</IBAN></Id></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>'
        "<Dt><Dt>2026-03-01</Dt></Dt></Bal>"
        f"{''.join(entries)}</Stmt>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NAMESPACE.format(version=version)}">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>M-1</MsgId></GrpHdr>{statement * statements}</BkToCstmrStmt></Document>"
    ).encode()


def test_camt053_001_02_fixture_parses_entries_batches_and_balances() -> None:
    statement = parse_statement(fixture("camt053_001_02.xml"), "camt053")

    assert statement.account_id == "DE89370400440532013000"
    assert statement.statement_id == "DE89370400440532013000-2026-061"
    assert statement.opening_balance == StatementBalance(1_000_000, "EUR", date(2026, 3, 1))
    assert statement.closing_balance == StatementBalance(1_120_200, "EUR", date(2026, 3, 2))
    day = date(2026, 3, 2)
    assert rows(statement) == [
        ("COBA20260302CT000017", day, "inbound", 150000, "EUR", "wd_01HX4K2M9Q", "Wallet top-up ACME GmbH"),
        # one entry of two batched payouts: one line each, the entry's reference numbered
        ("COBA20260302PO000003/1", day, "outbound", 25000, "EUR", "po_01HX5A7B2C", "Clearway payout po_01HX5A7B2C"),
        ("COBA20260302PO000003/2", day, "outbound", 12050, "EUR", "po_01HX5B9D4E", "Clearway payout po_01HX5B9D4E"),
        # no bank reference at all: the content hash, pinned because a change would re-import old lines
        ("h:49fecf0302f2aa4de052bb8abc175561", day, "outbound", 250, "EUR", None, "Account maintenance fee"),
        # a reversal (RvslInd) moves money the way CdtDbtInd says; EndToEndId NOTPROVIDED -> the creditor ref
        ("COBA20260302RV000009", day, "inbound", 7500, "EUR", "RF18539007547034", "Reversal of direct debit"),
    ]  # the PDNG entry is not a booking and is left out
    assert balances_add_up(statement)


def test_camt053_001_08_fixture_joins_statements_and_reads_the_later_layout() -> None:
    statement = parse_statement(fixture("camt053_001_08.xml"), "camt053")

    assert statement.account_id == "GB33BUKB20201555555555"
    assert statement.statement_id == "BUKB-CAMT053-20260303"  # two Stmt: the message id
    assert statement.opening_balance == StatementBalance(500000, "GBP", date(2026, 3, 1))  # PRCD of the first
    assert statement.closing_balance == StatementBalance(432880, "GBP", date(2026, 3, 3))  # CLBD of the last
    assert [row[:6] for row in rows(statement)] == [
        ("BUKB0302FP00A1", date(2026, 3, 2), "inbound", 25000, "GBP", "wd_01HXA1B2C3"),
        ("BUKB0302BT00B7-1", date(2026, 3, 2), "outbound", 60000, "GBP", "po_01HXB1C2D3"),  # TxDtls AcctSvcrRef
        ("TX-0302-0002", date(2026, 3, 2), "outbound", 40000, "GBP", "po_01HXB4E5F6"),  # TxDtls TxId
        ("h:af98d19c82948d4f6c15d4af2d110689", date(2026, 3, 3), "outbound", 120, "GBP", None),  # BookgDt/DtTm
        ("20260303-000004", date(2026, 3, 3), "inbound", 8000, "GBP", "Invoice 2026-0099"),  # NtryRef, Ustrd
    ]
    assert balances_add_up(statement)


def test_camt_ids_are_stable_across_reimports_and_overlapping_files() -> None:
    first = parse_statement(fixture("camt053_001_08.xml"), "camt053")
    again = parse_statement(fixture("camt053_001_08.xml"), "camt053")
    overlap = parse_statement(fixture("camt053_001_08_overlap.xml"), "camt053")

    assert rows(again) == rows(first)
    assert rows(overlap)[:2] == rows(first)[3:]  # the two entries of 3 March, hashed id included
    assert [line.booked_on for line in overlap.lines[2:]] == [date(2026, 3, 4)]
    assert overlap.lines[2].external_id not in {line.external_id for line in first.lines}
    assert balances_add_up(overlap)


@pytest.mark.parametrize("version", ["03", "04", "06", "10", "13"])
def test_later_versions_are_read_the_same_way(version: str) -> None:
    body = fixture("camt053_001_02.xml").replace(b"camt.053.001.02", f"camt.053.001.{version}".encode())

    assert rows(parse_statement(body, "camt053")) == rows(parse_statement(fixture("camt053_001_02.xml"), "camt053"))


def test_amount_precision_follows_the_currency() -> None:
    statement = parse_statement(camt(entry("1500", currency="JPY"), entry("1.234", currency="KWD")), "camt053")

    assert [(line.amount_minor, line.currency) for line in statement.lines] == [(1500, "JPY"), (1234, "KWD")]
    assert statement.opening_balance == StatementBalance(-500, "EUR", date(2026, 3, 1))  # DBIT: negative


def test_a_batch_whose_amounts_do_not_add_up_stays_one_line() -> None:
    details = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>a</EndToEndId></Refs><Amt Ccy='EUR'>4.00</Amt></TxDtls>"
        "<TxDtls><Refs><EndToEndId>b</EndToEndId></Refs><Amt Ccy='EUR'>5.00</Amt></TxDtls></NtryDtls>"
    )
    statement = parse_statement(camt(entry("10.00", details=details)), "camt053")

    assert [(line.external_id, line.amount_minor, line.reference) for line in statement.lines] == [
        ("REF-1", 1000, None)
    ]


def test_a_bank_reference_repeated_in_one_file_does_not_hide_a_line() -> None:
    statement = parse_statement(camt(entry("10.00"), entry("10.00", indicator="DBIT")), "camt053")

    ids = [line.external_id for line in statement.lines]
    assert len(set(ids)) == 2 and all(external_id.startswith("REF-1/") for external_id in ids)


def test_zero_amount_entries_are_skipped() -> None:
    assert parse_statement(camt(entry("0.00"), entry("1.00")), "camt053").lines[0].amount_minor == 100


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>'
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (fixture("camt053_001_02.xml")[:-300], "not well-formed XML"),
        (b"<Document><BkToCstmrStmt>", "not well-formed XML"),
        (ENTITY_BOMB, "XML that declares entities is refused"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>',
            "not a camt.053 document: the root element is",
        ),
        (camt(entry(), version="01"), "camt.053.001.01 is not supported"),
        (camt(entry("12.345")), "Stmt[1]/Ntry[1]/Amt: 12.345 has more decimal places than EUR allows (2)"),
        (camt(entry("1500.5", currency="JPY")), "1500.5 has more decimal places than JPY allows (0)"),
        (camt(entry("-5.00")), "Stmt[1]/Ntry[1]/Amt: '-5.00' is not an unsigned decimal amount"),
        (camt(entry("1,00")), "'1,00' is not an unsigned decimal amount"),
        (camt(entry(currency="EURO")), "Stmt[1]/Ntry[1]/Amt@Ccy: 'EURO' is not an ISO 4217 currency"),
        (camt(entry(indicator="CR")), "Stmt[1]/Ntry[1]/CdtDbtInd: 'CR' must be CRDT or DBIT"),
        (camt(entry(booked="")), "Stmt[1]/Ntry[1]: no booking date (BookgDt) or value date (ValDt)"),
        (camt(entry(booked="<BookgDt><Dt>02.03.2026</Dt></BookgDt>")), "'02.03.2026' is not an ISO date"),
        (camt(entry(), statements=0), "BkToCstmrStmt: no Stmt element"),
    ],
)
def test_malformed_camt_is_refused_with_a_useful_message(body: bytes, message: str) -> None:
    with pytest.raises(StatementInvalid) as raised:
        parse_statement(body, "camt053")

    assert message in str(raised.value)


def test_statements_of_two_accounts_in_one_file_are_refused() -> None:
    two = camt(entry()).replace(
        b"</BkToCstmrStmt>",
        b"<Stmt><Acct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id></Acct></Stmt></BkToCstmrStmt>",
    )

    with pytest.raises(StatementInvalid, match=r"statements of 2 accounts .* import one account per file"):
        parse_statement(two, "camt053")
