"""Bank payouts: IBAN/BIC normalisation and masking, SEPA pain.001 files checked against the XSD."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from clearway.providers.bank import (
    PAIN001_SCHEMA,
    CreditTransfer,
    Debtor,
    InvalidBankAccount,
    InvalidBic,
    InvalidCreditTransfer,
    InvalidIban,
    control_sum,
    mask_account_number,
    mask_iban,
    normalise_bic,
    normalise_iban,
    render_pain001,
    validate_pain001,
)
from clearway.providers.errors import ProviderError

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{PAIN001_SCHEMA}"}
DEBTOR = Debtor(name="Clearway Payments Ltd", iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX")


@pytest.mark.parametrize(
    ("raw", "electronic"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("gb82west12345698765432", "GB82WEST12345698765432"),
        (" FR14 2004 1010 0505 0001 3M02 606 ", "FR1420041010050500013M02606"),
        ("NO9386011117947", "NO9386011117947"),
    ],
)
def test_valid_ibans_are_normalised_to_electronic_format(raw: str, electronic: str) -> None:
    assert normalise_iban(raw) == electronic


@pytest.mark.parametrize(
    "raw",
    ["", "DE89370400440532013001", "XX89370400440532013000", "DE8937040044053201300", "DE89-3704", "x" * 100],
)
def test_invalid_ibans_raise_a_stable_code(raw: str) -> None:
    with pytest.raises(InvalidBankAccount) as raised:
        normalise_iban(raw)
    assert isinstance(raised.value, InvalidIban) and raised.value.code == "INVALID_IBAN"
    assert isinstance(raised.value, ProviderError) and isinstance(raised.value, ValueError)
    assert raw[4:12] not in raised.value.message or not raw[4:12], "the message does not echo the account"


def test_bics() -> None:
    assert normalise_bic("deut de ff") == "DEUTDEFF"
    assert normalise_bic("COBADEFFXXX") == "COBADEFFXXX"
    for bad in ["", "DEUT", "DEUTXXFF", "DE12DEFF", "DEUTDEFO", "DEUTDE1F", "DEUTDEFF50"]:
        with pytest.raises(InvalidBic) as raised:
            normalise_bic(bad)
        assert raised.value.code == "INVALID_BIC"


def test_masking_shows_country_check_digits_and_last_four() -> None:
    assert mask_account_number("DE89370400440532013000") == "DE89 **** **** **** 3000"
    assert mask_iban("NO93 8601 1117 947") == "NO93 **** **** **** 7947"
    assert mask_account_number("DE89") == "DE** **** **** ****"
    assert mask_account_number("") == "****"


def transfer(end_to_end_id: str, amount_minor: int, **changes: object) -> CreditTransfer:
    values: dict[str, object] = {
        "end_to_end_id": end_to_end_id,
        "creditor_name": "Jöhn Döe",
        "creditor_iban": "GB82 WEST 1234 5698 7654 32",
        "creditor_bic": None,
        "amount_minor": amount_minor,
        "currency": "EUR",
        "remittance_information": f"Withdrawal {end_to_end_id}",
    }
    values.update(changes)
    return CreditTransfer(**values)  # type: ignore[arg-type]


def render(*transfers: CreditTransfer, message_id: str = "pb_01jbatch") -> bytes:
    return render_pain001(
        message_id=message_id,
        debtor=DEBTOR,
        execution_date=date(2025, 1, 2),
        transfers=transfers,
        created_at=datetime(2025, 1, 1, 9, 30, 5, tzinfo=UTC),
    )


def test_pain001_renders_valid_xml_with_our_ids_counts_and_sums() -> None:
    document = render(
        transfer("wd_1", 12_345),
        transfer("wd_2", 5, creditor_bic="bnpafrpp", creditor_iban="FR1420041010050500013M02606"),
        transfer("wd_3", 100_000_00),
    )
    validate_pain001(document)  # also done inside render_pain001
    assert control_sum(document) == (3, 12_345 + 5 + 100_000_00)
    root = ET.fromstring(document)
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:MsgId", namespaces=NS) == "pb_01jbatch"
    assert header.findtext("p:CreDtTm", namespaces=NS) == "2025-01-01T09:30:05"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "100123.50"
    [info] = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.findtext("p:PmtInfId", namespaces=NS) == "pb_01jbatch"
    assert info.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert info.findtext("p:ReqdExctnDt", namespaces=NS) == "2025-01-02"
    assert info.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    assert info.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "COBADEFFXXX"
    assert info.findtext("p:PmtTpInf/p:SvcLvl/p:Cd", namespaces=NS) == "SEPA"
    rows = [
        (
            tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
            tx.findtext("p:Amt/p:InstdAmt", namespaces=NS),
            tx.find("p:Amt/p:InstdAmt", NS).get("Ccy"),  # type: ignore[union-attr]
            tx.findtext("p:Cdtr/p:Nm", namespaces=NS),
            tx.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
            tx.findtext("p:CdtrAgt/p:FinInstnId/p:BIC", namespaces=NS),
            tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
        )
        for tx in info.findall("p:CdtTrfTxInf", NS)
    ]
    assert rows == [
        ("wd_1", "123.45", "EUR", "John Doe", "GB82WEST12345698765432", None, "Withdrawal wd_1"),
        ("wd_2", "0.05", "EUR", "John Doe", "FR1420041010050500013M02606", "BNPAFRPP", "Withdrawal wd_2"),
        ("wd_3", "100000.00", "EUR", "John Doe", "GB82WEST12345698765432", None, "Withdrawal wd_3"),
    ]


def test_same_inputs_render_the_same_file() -> None:
    assert render(transfer("wd_1", 100)) == render(transfer("wd_1", 100))


def test_non_eur_transfers_are_refused() -> None:
    with pytest.raises(InvalidCreditTransfer, match="EUR only") as raised:
        render(transfer("wd_1", 100), transfer("wd_2", 100, currency="KES"))
    assert raised.value.code == "INVALID_CREDIT_TRANSFER"


@pytest.mark.parametrize(
    ("transfers", "message_id", "match"),
    [
        ([], "m1", "1..10000 transfers"),
        ([transfer("wd_1", 1), transfer("wd_1", 2)], "m1", "unique"),
        ([transfer("wd_1", 0)], "m1", "amount_minor"),
        ([transfer("wd_1", 10**12)], "m1", "amount_minor"),
        ([transfer("x" * 36, 1)], "m1", "end_to_end_id"),
        ([transfer("wd_1", 1, remittance_information="r" * 141)], "m1", "remittance"),
        ([transfer("wd_1", 1, creditor_name="  ")], "m1", "creditor_name"),
        ([transfer("wd_1", 1)], "m" * 36, "message_id"),
        ([transfer("wd_1", 1)], "", "message_id"),
    ],
)
def test_files_the_scheme_would_refuse_are_not_rendered(
    transfers: list[CreditTransfer], message_id: str, match: str
) -> None:
    with pytest.raises(InvalidCreditTransfer, match=match):
        render(*transfers, message_id=message_id)


def test_bad_accounts_in_a_file_raise_their_own_codes() -> None:
    with pytest.raises(InvalidIban):
        render(transfer("wd_1", 1, creditor_iban="DE00370400440532013000"))
    with pytest.raises(InvalidBic):
        render(transfer("wd_1", 1, creditor_bic="NOTABIC"))


def test_schema_validation_catches_a_broken_file() -> None:
    document = render(transfer("wd_1", 100))
    with pytest.raises(InvalidCreditTransfer, match="schema"):
        validate_pain001(document.replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>NOPE</ChrgBr>"))
    with pytest.raises(InvalidCreditTransfer, match="schema"):
        validate_pain001(document.replace(b"<PmtMtd>TRF</PmtMtd>", b""))


def test_long_names_are_cut_to_the_schema_limit() -> None:
    document = render(transfer("wd_1", 100, creditor_name="N" * 100))
    name = ET.fromstring(document).findtext(".//p:Cdtr/p:Nm", namespaces=NS)
    assert name == "N" * 70
