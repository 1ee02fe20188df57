from __future__ import annotations

import pytest

from clearway.providers.mobile_money import (
    InvalidPhoneNumber,
    InvalidStkPushRequest,
    ResultCode,
    ResultKind,
    StkCallback,
    StkFailed,
    StkPending,
    StkPushRequest,
    StkSucceeded,
    is_e164,
    mask_phone,
    normalise_phone,
)


@pytest.mark.parametrize(
    "raw",
    ["0712345678", "0712 345 678", "254712345678", "+254712345678", "+254 712-345-678", "(0712) 345678"],
)
def test_kenyan_numbers_as_people_type_them_normalise_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+254712345678"


def test_newer_safaricom_prefix_is_a_mobile_number() -> None:
    assert normalise_phone("0110 123 456") == "+254110123456"


def test_default_region_is_configurable() -> None:
    assert normalise_phone("0803 123 4567", default_region="NG") == "+2348031234567"
    assert normalise_phone("+255 754 123 456", default_region="NG") == "+255754123456"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "not a phone", "0712", "+2547123456789012345", "x" * 40])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(raw)


def test_landlines_are_refused_for_mobile_money_unless_asked() -> None:
    with pytest.raises(InvalidPhoneNumber, match="not a mobile"):
        normalise_phone("020 1234567")
    assert normalise_phone("020 1234567", mobile_only=False) == "+254201234567"


def test_error_messages_never_carry_the_full_number() -> None:
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalise_phone("020 1234567")
    assert "1234567" not in str(raised.value)


def test_masking_keeps_country_code_and_last_three_digits() -> None:
    assert mask_phone("+254712345678") == "+254******678"
    assert mask_phone("0712345678") == "+254******678"
    assert mask_phone("+254712345678", visible_digits=2) == "+254*******78"


@pytest.mark.parametrize("raw", ["", "12", "abc", "2547****678"])
def test_masking_never_raises_and_never_reveals_more(raw: str) -> None:
    masked = mask_phone(raw)
    assert sum(character.isdigit() for character in masked) <= len("254") + 3


def test_is_e164() -> None:
    assert is_e164("+254712345678")
    assert not is_e164("0712345678")
    assert not is_e164("+254 712 345 678")


@pytest.mark.parametrize(
    ("code", "kind", "is_success", "is_final"),
    [
        (0, ResultKind.SUCCESS, True, True),
        (1, ResultKind.INSUFFICIENT_BALANCE, False, True),
        (1032, ResultKind.CANCELLED_BY_USER, False, True),
        (1037, ResultKind.UNREACHABLE, False, True),
        (2001, ResultKind.WRONG_PIN, False, True),
        (4999, ResultKind.PROCESSING, False, False),
        (1019, ResultKind.FAILED, False, True),
        (17, ResultKind.FAILED, False, True),
    ],
)
def test_result_codes(code: int, kind: ResultKind, is_success: bool, is_final: bool) -> None:
    result = ResultCode(code)
    assert result == code
    assert (result.kind, result.is_success, result.is_final) == (kind, is_success, is_final)
    assert result.description


def test_stk_push_request_create_normalises_the_phone() -> None:
    request = StkPushRequest.create(
        phone="0712 345 678", amount_minor=10_000, currency="KES", account_reference="TOPUP1"
    )
    assert request.phone == "+254712345678"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_minor": 0},
        {"amount_minor": -100},
        {"amount_minor": True},
        {"currency": "XYZ"},
        {"phone": "0712345678"},
        {"account_reference": ""},
        {"account_reference": "r" * 65},
    ],
)
def test_stk_push_request_refuses_bad_values(changes: dict[str, object]) -> None:
    values: dict[str, object] = {
        "phone": "+254712345678",
        "amount_minor": 10_000,
        "currency": "KES",
        "account_reference": "TOPUP1",
        "description": "Top up",
    }
    values.update(changes)
    with pytest.raises(InvalidStkPushRequest):
        StkPushRequest(**values)  # type: ignore[arg-type]


def test_callback_to_status_matches_query_answers() -> None:
    success = StkCallback(
        checkout_request_id="ws_CO_1",
        merchant_request_id="m-1",
        result_code=ResultCode(0),
        result_desc="ok",
        currency="KES",
        amount_minor=100,
        mpesa_receipt="PDL72WRAVZ",
        phone="+254712345678",
    )
    assert success.to_status() == StkSucceeded("ws_CO_1", "KES", "PDL72WRAVZ", 100, "+254712345678")
    cancelled = StkCallback("ws_CO_2", "m-2", ResultCode(1032), "Request cancelled by user", "KES")
    assert cancelled.to_status() == StkFailed("ws_CO_2", ResultCode(1032), "Request cancelled by user")
    processing = StkCallback("ws_CO_3", "m-3", ResultCode(4999), "still processing", "KES")
    assert isinstance(processing.to_status(), StkPending)
