"""Daraja request building: password, timestamp and payload, checked on the wire (MockTransport)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from clearway.providers.mobile_money import (
    DarajaClient,
    DarajaSettings,
    InvalidStkPushRequest,
    ProviderRejected,
    StkPushAccepted,
    StkPushRequest,
)
from clearway.providers.mobile_money.daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, TOKEN_PATH
from clearway.providers.mobile_money.daraja.payloads import daraja_timestamp, stk_password
from clearway.providers.mobile_money.testing import FakeDarajaServer

PHONE = "+254712345678"


def push_request(**changes: object) -> StkPushRequest:
    values: dict[str, object] = {
        "phone": PHONE,
        "amount_minor": 150_000,
        "currency": "KES",
        "account_reference": "TOPUP-42",
        "description": "Wallet top-up",
    }
    values.update(changes)
    return StkPushRequest(**values)  # type: ignore[arg-type]


def test_password_is_base64_of_shortcode_passkey_timestamp() -> None:
    passkey = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
    password = stk_password("174379", passkey, "20160216165627")
    assert base64.b64decode(password).decode() == f"174379{passkey}20160216165627"
    # Safaricom's documented example for these inputs (the published copy drops a few characters mid-way).
    assert password == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
    )


def test_timestamp_is_nairobi_local_time() -> None:
    assert daraja_timestamp(datetime(2025, 12, 31, 22, 0, 1, tzinfo=UTC)) == "20260101010001"


async def test_stk_push_sends_the_documented_payload(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, settings: DarajaSettings
) -> None:
    accepted = await daraja.initiate_stk_push(push_request())

    assert accepted == StkPushAccepted(
        merchant_request_id="29115-1-1",
        checkout_request_id="ws_CO_FAKE_00000001",
        customer_message="Success. Request accepted for processing",
    )
    [push] = fake_daraja.requests_to(STK_PUSH_PATH)
    assert push.method == "POST"
    assert str(push.url) == "https://sandbox.safaricom.co.ke/mpesa/stkpush/v1/processrequest"
    assert push.headers["authorization"] == "Bearer token-1"
    passkey = settings.passkey.get_secret_value()
    assert json.loads(push.content) == {
        "BusinessShortCode": "174379",
        "Password": base64.b64encode(f"174379{passkey}20250101123005".encode()).decode(),
        "Timestamp": "20250101123005",
        "TransactionType": "CustomerPayBillOnline",
        "Amount": 1500,
        "PartyA": "254712345678",
        "PartyB": "174379",
        "PhoneNumber": "254712345678",
        "CallBackURL": "https://funding.example.test/callbacks/mpesa/cbtok_0123456789abcdef",
        "AccountReference": "TOPUP-42",
        "TransactionDesc": "Wallet top-up",
    }


async def test_token_request_uses_basic_auth_and_client_credentials(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    assert await daraja.access_token() == "token-1"
    [token_request] = fake_daraja.requests_to(TOKEN_PATH)
    assert token_request.method == "GET"
    assert token_request.url.params["grant_type"] == "client_credentials"
    expected = base64.b64encode(b"ck-test-consumer-key:cs-test-consumer-secret-value").decode()
    assert token_request.headers["authorization"] == f"Basic {expected}"


async def test_status_query_sends_the_documented_payload(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, settings: DarajaSettings
) -> None:
    await daraja.query_stk_status("ws_CO_13012021093521236557")
    [body] = fake_daraja.json_bodies_to(STK_QUERY_PATH)
    passkey = settings.passkey.get_secret_value()
    assert body == {
        "BusinessShortCode": "174379",
        "Password": base64.b64encode(f"174379{passkey}20250101123005".encode()).decode(),
        "Timestamp": "20250101123005",
        "CheckoutRequestID": "ws_CO_13012021093521236557",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_minor": 150_050}, "cents"),
        ({"amount_minor": 50}, "cents"),
        ({"currency": "USD"}, "KES only"),
        ({"amount_minor": 25_000_100}, "1..250000"),
        ({"phone": "+14155552671"}, r"Kenyan \(\+254\)"),
        ({"account_reference": "REFERENCE-TOO-LONG"}, "AccountReference"),
    ],
)
async def test_pushes_m_pesa_cannot_take_are_refused_before_sending(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidStkPushRequest, match=message):
        await daraja.initiate_stk_push(push_request(**changes))
    assert fake_daraja.requests == []


async def test_long_description_is_cut_to_daraja_limit(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    await daraja.initiate_stk_push(push_request(description="A very long description for the prompt"))
    [body] = fake_daraja.json_bodies_to(STK_PUSH_PATH)
    assert body["TransactionDesc"] == "A very long d"


def test_buy_goods_pays_the_till(settings: DarajaSettings) -> None:
    buy_goods = settings.model_copy(update={"transaction_type": "CustomerBuyGoodsOnline", "party_b": "600000"})
    assert buy_goods.party_b_or_short_code() == "600000"


def test_settings_hide_secrets_and_insist_on_a_callback_token(settings: DarajaSettings) -> None:
    shown = repr(settings) + str(settings.model_dump())
    for secret in ("cs-test-consumer-secret-value", "bfb279f9", "cbtok_0123456789abcdef", "ck-test-consumer-key"):
        assert secret not in shown
    values = settings.model_dump() | {
        "consumer_key": "k",
        "consumer_secret": "s",
        "passkey": "p",
        "callback_token": "cbtok_0123456789abcdef",
    }
    with pytest.raises(ValidationError, match="callback_token"):
        DarajaSettings(**values | {"callback_url": "https://funding.example.test/callbacks/mpesa"})
    with pytest.raises(ValidationError, match="callback_token"):
        DarajaSettings(**values | {"callback_token": "short"})
    with pytest.raises(ValidationError, match="URL"):
        DarajaSettings(**values | {"callback_token": "has/slash/in/the/token"})


@pytest.mark.parametrize("checkout_request_id", ["", "x" * 129])
async def test_status_query_refuses_an_unqueryable_checkout_request_id(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, checkout_request_id: str
) -> None:
    with pytest.raises(ProviderRejected, match="checkout_request_id"):
        await daraja.query_stk_status(checkout_request_id)
    assert fake_daraja.requests_to(STK_QUERY_PATH) == []
