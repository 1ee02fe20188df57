"""Daraja STK callbacks in the documented shapes, callback tokens and duplicate detection."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from clearway.providers.mobile_money import (
    DARAJA_CALLBACK_ACK,
    CallbackDelivery,
    CallbackInvalid,
    CallbackRejected,
    DarajaClient,
    ResultCode,
    ResultKind,
    callback_dedupe_key,
    callback_fingerprint,
    classify_callback_delivery,
)
from clearway.providers.mobile_money.daraja import build_daraja_stk_callback, parse_daraja_stk_callback

EAT = timezone(timedelta(hours=3))

# The shapes Safaricom documents for Lipa na M-Pesa Online callbacks.
SUCCESS = b"""{
  "Body": {
    "stkCallback": {
      "MerchantRequestID": "29115-34620561-1",
      "CheckoutRequestID": "ws_CO_191220191020363925",
      "ResultCode": 0,
      "ResultDesc": "The service request is processed successfully.",
      "CallbackMetadata": {
        "Item": [
          {"Name": "Amount", "Value": 1.00},
          {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
          {"Name": "Balance"},
          {"Name": "TransactionDate", "Value": 20191219102115},
          {"Name": "PhoneNumber", "Value": 254708374149}
        ]
      }
    }
  }
}"""
CANCELLED = b"""{
  "Body": {
    "stkCallback": {
      "MerchantRequestID": "29115-34620561-1",
      "CheckoutRequestID": "ws_CO_191220191020363925",
      "ResultCode": 1032,
      "ResultDesc": "Request cancelled by user."
    }
  }
}"""
TIMED_OUT = b"""{
  "Body": {
    "stkCallback": {
      "MerchantRequestID": "8555-67195-1",
      "CheckoutRequestID": "ws_CO_27072017151044001",
      "ResultCode": 1037,
      "ResultDesc": "DS timeout user cannot be reached"
    }
  }
}"""


def test_successful_callback() -> None:
    callback = parse_daraja_stk_callback(SUCCESS)
    assert callback.checkout_request_id == "ws_CO_191220191020363925"
    assert callback.merchant_request_id == "29115-34620561-1"
    assert callback.result_code.is_success
    assert (callback.amount_minor, callback.currency) == (100, "KES")
    assert callback.mpesa_receipt == "NLJ7RT61SV"
    assert callback.phone == "+254708374149"
    assert callback.transaction_date == datetime(2019, 12, 19, 10, 21, 15, tzinfo=EAT)


def test_cancelled_by_user_callback() -> None:
    callback = parse_daraja_stk_callback(CANCELLED)
    assert callback.result_code == 1032
    assert callback.result_code.kind is ResultKind.CANCELLED_BY_USER
    assert callback.result_code.is_final
    assert (callback.amount_minor, callback.mpesa_receipt, callback.phone) == (None, None, None)


def test_timeout_callback() -> None:
    callback = parse_daraja_stk_callback(TIMED_OUT)
    assert callback.result_code == ResultCode.UNREACHABLE
    assert callback.result_desc == "DS timeout user cannot be reached"
    assert not callback.result_code.is_success


def test_result_code_sent_as_a_string_and_fractional_amount() -> None:
    body = json.loads(SUCCESS)
    body["Body"]["stkCallback"]["ResultCode"] = "0"
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][0]["Value"] = "1500.50"
    assert parse_daraja_stk_callback(json.dumps(body).encode()).amount_minor == 150_050


def test_unreadable_phone_or_date_does_not_lose_a_payment() -> None:
    body = json.loads(SUCCESS)
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    items[3]["Value"] = "yesterday"
    items[4]["Value"] = "2547****149"
    callback = parse_daraja_stk_callback(json.dumps(body).encode())
    assert callback.mpesa_receipt == "NLJ7RT61SV"
    assert (callback.phone, callback.transaction_date) == (None, None)


def _without_item(name: str) -> bytes:
    body = json.loads(SUCCESS)
    items = body["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = [item for item in items if item["Name"] != name]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"Body": {}}',
        b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_1", "ResultCode": 0}}}',
        b'{"Body": {"stkCallback": {"MerchantRequestID": "m", "CheckoutRequestID": "", "ResultCode": 1032}}}',
        b'{"Body": {"stkCallback": {"MerchantRequestID": "m", "CheckoutRequestID": "c", "ResultCode": "x"}}}',
        _without_item("Amount"),
        _without_item("MpesaReceiptNumber"),
        SUCCESS.replace(b'"Value": 1.00', b'"Value": 1.005'),
        SUCCESS.replace(b'"Value": 1.00', b'"Value": -5'),
        b" " * (64 * 1024 + 1),
    ],
)
def test_malformed_callbacks_are_refused(body: bytes) -> None:
    with pytest.raises(CallbackInvalid):
        parse_daraja_stk_callback(body)


def test_client_verifies_the_callback_token_then_parses(daraja: DarajaClient) -> None:
    daraja.verify_callback_token("cbtok_0123456789abcdef")
    for presented in (None, "", "cbtok_0123456789abcdeF", "x" * 300):
        with pytest.raises(CallbackRejected):
            daraja.verify_callback_token(presented)
    assert daraja.parse_callback(SUCCESS, {"content-type": "application/json"}).mpesa_receipt == "NLJ7RT61SV"
    assert DARAJA_CALLBACK_ACK == {"ResultCode": 0, "ResultDesc": "Accepted"}


def test_redelivered_callback_is_a_duplicate() -> None:
    first = parse_daraja_stk_callback(SUCCESS)
    recorded = callback_fingerprint(first)
    assert classify_callback_delivery(first, None) is CallbackDelivery.FIRST

    # Same outcome, reformatted text and a masked phone: still the same delivery.
    body = json.loads(SUCCESS)
    body["Body"]["stkCallback"]["ResultDesc"] = "processed successfully"
    body["Body"]["stkCallback"]["CallbackMetadata"]["Item"][4]["Value"] = "2547****149"
    again = parse_daraja_stk_callback(json.dumps(body).encode())
    assert callback_dedupe_key(again) == callback_dedupe_key(first) == "stk-callback:ws_CO_191220191020363925"
    assert classify_callback_delivery(again, recorded) is CallbackDelivery.DUPLICATE


def test_different_outcome_for_the_same_push_is_a_conflict() -> None:
    success = parse_daraja_stk_callback(SUCCESS)
    cancelled = parse_daraja_stk_callback(CANCELLED)
    assert callback_dedupe_key(success) == callback_dedupe_key(cancelled)
    assert classify_callback_delivery(cancelled, callback_fingerprint(success)) is CallbackDelivery.CONFLICTING


def test_built_callbacks_parse_back_to_the_same_outcome() -> None:
    paid_at = datetime(2025, 3, 1, 8, 0, 0, tzinfo=EAT)
    body = build_daraja_stk_callback(
        merchant_request_id="m-1",
        checkout_request_id="ws_CO_1",
        result_code=ResultCode.SUCCESS,
        amount_minor=250_000,
        mpesa_receipt="TST0000001",
        phone="+254712345678",
        transaction_date=paid_at,
    )
    callback = parse_daraja_stk_callback(body)
    assert (callback.amount_minor, callback.mpesa_receipt, callback.phone) == (250_000, "TST0000001", "+254712345678")
    assert callback.transaction_date == paid_at
    declined = parse_daraja_stk_callback(
        build_daraja_stk_callback(
            merchant_request_id="m-2", checkout_request_id="ws_CO_2", result_code=ResultCode.CANCELLED_BY_USER
        )
    )
    assert declined.result_code.kind is ResultKind.CANCELLED_BY_USER
