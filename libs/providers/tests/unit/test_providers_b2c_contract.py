"""The B2C contract: request validation, result -> status mapping, result codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clearway.providers.mobile_money import (
    B2cFailed,
    B2cPaymentRequest,
    B2cPending,
    B2cResult,
    B2cResultKind,
    B2cReversed,
    B2cSucceeded,
    InvalidB2cPaymentRequest,
    InvalidPhoneNumber,
    ProviderError,
    ResultCode,
)

PHONE = "+254712345678"


def request(**changes: object) -> B2cPaymentRequest:
    values: dict[str, object] = {
        "phone": PHONE,
        "amount_minor": 150_000,
        "currency": "KES",
        "originator_conversation_id": "wd_01jabcdefghjkmnpqrstvwxyz0",
        "remarks": "Wallet withdrawal",
    }
    values.update(changes)
    return B2cPaymentRequest(**values)  # type: ignore[arg-type]


def test_create_accepts_a_phone_as_typed() -> None:
    created = B2cPaymentRequest.create(
        phone="0712 345 678", amount_minor=10_000, currency="KES", originator_conversation_id="wd_1"
    )
    assert created.phone == PHONE
    assert (created.remarks, created.occasion) == ("", "")
    with pytest.raises(InvalidPhoneNumber):
        B2cPaymentRequest.create(phone="12", amount_minor=10_000, currency="KES", originator_conversation_id="wd_1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_minor": 0}, "amount_minor"),
        ({"amount_minor": -5}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"amount_minor": 10**20}, "amount_minor"),
        ({"currency": "XYZ"}, "ISO 4217"),
        ({"phone": "0712345678"}, "E.164"),
        ({"originator_conversation_id": ""}, "originator_conversation_id"),
        ({"originator_conversation_id": "x" * 65}, "originator_conversation_id"),
        ({"originator_conversation_id": "has space"}, "originator_conversation_id"),
        ({"remarks": "r" * 101}, "remarks"),
        ({"occasion": "o" * 101}, "occasion"),
    ],
)
def test_invalid_requests_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidB2cPaymentRequest, match=message) as raised:
        request(**changes)
    assert isinstance(raised.value, ValueError) and isinstance(raised.value, ProviderError)
    assert raised.value.code == "INVALID_B2C_PAYMENT_REQUEST"


def test_longest_id_and_texts_are_accepted() -> None:
    accepted = request(originator_conversation_id="a" * 64, remarks="r" * 100, occasion="o" * 100)
    assert len(accepted.originator_conversation_id) == 64


def result(kind: B2cResultKind, code: int | str, **changes: object) -> B2cResult:
    values: dict[str, object] = {
        "originator_conversation_id": "wd_1",
        "kind": kind,
        "result_code": ResultCode.parse(code),
        "result_desc": "desc",
        "currency": "KES",
        "conversation_id": "AG_1",
    }
    values.update(changes)
    return B2cResult(**values)  # type: ignore[arg-type]


def test_payment_results_map_to_statuses() -> None:
    done = datetime(2025, 1, 1, tzinfo=UTC)
    paid = result(B2cResultKind.PAYMENT, 0, receipt="SG632NMUAB", amount_minor=1_000, completed_at=done)
    assert paid.to_status() == B2cSucceeded("wd_1", "AG_1", "SG632NMUAB", 1_000, "KES", done)
    failed = result(B2cResultKind.PAYMENT, 2001).to_status()
    assert isinstance(failed, B2cFailed) and failed.result_code == 2001
    assert isinstance(result(B2cResultKind.PAYMENT, 4999).to_status(), B2cPending)
    not_on_mpesa = result(B2cResultKind.PAYMENT, "SFC_IC0003", result_desc="").to_status()
    assert isinstance(not_on_mpesa, B2cFailed)
    assert not_on_mpesa.result_code.value == "SFC_IC0003"
    assert "does not exist" in not_on_mpesa.description


def test_status_answers_only_settle_on_completed() -> None:
    completed = result(B2cResultKind.STATUS_QUERY, 0, transaction_status="Completed", receipt="R1", amount_minor=100)
    assert isinstance(completed.to_status(), B2cSucceeded)
    # A failed query, or a status Daraja does not document, says nothing final about the payment.
    assert isinstance(result(B2cResultKind.STATUS_QUERY, 2001).to_status(), B2cPending)
    declined = result(B2cResultKind.STATUS_QUERY, 0, transaction_status="Declined").to_status()
    assert isinstance(declined, B2cPending) and "Declined" in declined.description


def test_reversal_results() -> None:
    reversed_ = result(B2cResultKind.REVERSAL, 0, receipt="SKC82PACB8", result_desc="").to_status()
    assert reversed_ == B2cReversed("wd_1", "SKC82PACB8", "The payment was reversed.")
    assert isinstance(result(B2cResultKind.REVERSAL, "R000001").to_status(), B2cPending)


def test_a_successful_payment_result_needs_receipt_and_amount() -> None:
    with pytest.raises(AssertionError):
        result(B2cResultKind.PAYMENT, 0)


def test_result_codes_parse_and_describe() -> None:
    assert ResultCode.parse("0") == ResultCode.SUCCESS and ResultCode.parse(" 1 ").value == 1
    assert ResultCode.parse(2040).description.startswith("The recipient is not a registered")
    assert ResultCode(1).description == "The balance is insufficient for the transaction."
    assert ResultCode.EXPIRED == 1019 and ResultCode.EXPIRED.is_final
    assert repr(ResultCode.parse("R000002")) == "ResultCode('R000002', failed)"
    for unreadable in ["", "has space", "x" * 40]:
        with pytest.raises(ValueError):
            ResultCode.parse(unreadable)
    with pytest.raises(ValueError):
        ResultCode.parse(True)
