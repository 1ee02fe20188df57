"""Daraja B2C: request bodies on the wire, answers, status queries, result/timeout parsing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    B2cAccepted,
    B2cDuplicatePayment,
    B2cFailed,
    B2cPaymentOutcomeUnknown,
    B2cPaymentRequest,
    B2cPending,
    B2cResultKind,
    B2cReversed,
    B2cSucceeded,
    CallbackInvalid,
    CallbackRejected,
    DarajaClient,
    DarajaSettings,
    InvalidB2cPaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
)
from clearway.providers.mobile_money.daraja import (
    build_daraja_b2c_result,
    build_daraja_b2c_status_result,
    build_daraja_b2c_timeout,
    parse_daraja_b2c_result,
    parse_daraja_b2c_timeout,
)
from clearway.providers.mobile_money.daraja.client import B2C_PAYMENT_PATH, TRANSACTION_STATUS_PATH
from clearway.providers.mobile_money.daraja.payloads import EAT
from clearway.providers.mobile_money.result_codes import ResultCode
from clearway.providers.mobile_money.testing import FakeDarajaServer, daraja_json

TOKEN = "cbtok_0123456789abcdef"
CREDENTIAL = "c2VjdXJpdHktY3JlZGVudGlhbA=="


@pytest.fixture
def b2c_settings(settings: DarajaSettings) -> DarajaSettings:
    return DarajaSettings(
        **settings.model_dump()
        | {
            "consumer_key": "ck-test-consumer-key",
            "consumer_secret": "cs-test-consumer-secret-value",
            "passkey": "p",
            "callback_token": TOKEN,
            "b2c_short_code": "600996",
            "b2c_initiator_name": "testapi",
            "b2c_security_credential": CREDENTIAL,
            "b2c_result_url": "https://payout.example.test/callbacks/b2c/result/{callback_token}",
            "b2c_timeout_url": "https://payout.example.test/callbacks/b2c/timeout/{callback_token}",
        }
    )


@pytest.fixture
async def b2c(
    b2c_settings: DarajaSettings, fake_daraja: FakeDarajaServer, clock: ManualClock, recording_sleep: object
) -> AsyncIterator[DarajaClient]:
    client = DarajaClient(
        b2c_settings,
        transport=httpx.MockTransport(fake_daraja.handler),
        clock=clock,
        sleep=recording_sleep,  # type: ignore[arg-type]
    )
    yield client
    await client.aclose()


def payout(**changes: object) -> B2cPaymentRequest:
    values: dict[str, object] = {
        "phone": "+254705912645",
        "amount_minor": 1_000,
        "currency": "KES",
        "originator_conversation_id": "wd_01jabc",
        "remarks": "Wallet withdrawal",
    }
    values.update(changes)
    return B2cPaymentRequest(**values)  # type: ignore[arg-type]


async def test_payment_sends_the_documented_v3_body(b2c: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    accepted = await b2c.pay(payout(occasion="Payout"))
    assert accepted == B2cAccepted("wd_01jabc", "AG_20250101_FAKE00000001", "Accept the service request successfully.")
    [sent] = fake_daraja.requests_to(B2C_PAYMENT_PATH)
    assert str(sent.url) == "https://sandbox.safaricom.co.ke/mpesa/b2c/v3/paymentrequest"
    assert sent.headers["authorization"] == "Bearer token-1"
    assert json.loads(sent.content) == {
        "OriginatorConversationID": "wd_01jabc",
        "InitiatorName": "testapi",
        "SecurityCredential": CREDENTIAL,
        "CommandID": "BusinessPayment",
        "Amount": 10,
        "PartyA": "600996",
        "PartyB": "254705912645",
        "Remarks": "Wallet withdrawal",
        "QueueTimeOutURL": f"https://payout.example.test/callbacks/b2c/timeout/{TOKEN}",
        "ResultURL": f"https://payout.example.test/callbacks/b2c/result/{TOKEN}",
        "Occassion": "Payout",
    }


async def test_short_remarks_are_padded_and_empty_occasion_left_out(
    b2c: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    await b2c.pay(payout(remarks=""))
    [body] = fake_daraja.json_bodies_to(B2C_PAYMENT_PATH)
    assert body["Remarks"] == "Payout" and "Occassion" not in body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount_minor": 1_050}, "cents"),
        ({"currency": "USD"}, "KES only"),
        ({"amount_minor": 25_000_100}, "1..250000"),
        ({"phone": "+14155552671"}, "Kenyan"),
    ],
)
async def test_payouts_m_pesa_cannot_take_are_refused_before_sending(
    b2c: DarajaClient, fake_daraja: FakeDarajaServer, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidB2cPaymentRequest, match=message):
        await b2c.pay(payout(**changes))
    assert fake_daraja.requests_to(B2C_PAYMENT_PATH) == []


async def test_a_resent_payment_is_a_duplicate_not_a_refusal(b2c: DarajaClient) -> None:
    await b2c.pay(payout())
    with pytest.raises(B2cDuplicatePayment) as raised:
        await b2c.pay(payout())
    assert isinstance(raised.value, B2cPaymentOutcomeUnknown)
    assert not isinstance(raised.value, ProviderRejected | ProviderUnavailable)
    assert raised.value.provider_code == "500.002.1001"


async def test_payment_answers_map_to_typed_errors(b2c: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(
        B2C_PAYMENT_PATH,
        daraja_json(503, {"errorCode": "503.001.01", "errorMessage": "Service Unavailable"}),
        daraja_json(400, {"errorCode": "400.002.02", "errorMessage": "Bad Request - Invalid PartyB"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        daraja_json(200, {"ResponseCode": "0"}),
    )
    with pytest.raises(ProviderUnavailable):
        await b2c.pay(payout())
    with pytest.raises(ProviderRejected, match="Invalid PartyB") as rejected:
        await b2c.pay(payout())
    assert rejected.value.provider_code == "400.002.02"
    with pytest.raises(B2cPaymentOutcomeUnknown):
        await b2c.pay(payout())
    with pytest.raises(ProviderUnavailable):
        await b2c.pay(payout())
    with pytest.raises(B2cPaymentOutcomeUnknown, match="ConversationID"):
        await b2c.pay(payout())
    assert len(fake_daraja.requests_to(B2C_PAYMENT_PATH)) == 5, "a payment is never resent by the client"


async def test_payment_refused_token_is_refreshed_once(b2c: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(B2C_PAYMENT_PATH, daraja_json(401, {"errorCode": "404.001.03", "errorMessage": "Invalid Token"}))
    await b2c.pay(payout())
    sent = fake_daraja.requests_to(B2C_PAYMENT_PATH)
    assert [request.headers["authorization"] for request in sent] == ["Bearer token-1", "Bearer token-2"]


async def test_status_query_sends_the_documented_body_and_answers_pending(
    b2c: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    fake_daraja.queue(TRANSACTION_STATUS_PATH, daraja_json(503, {"errorCode": "503.001.01"}))
    status = await b2c.query_payment_status("wd_01jabc", "AG_20250101_FAKE00000001")
    assert isinstance(status, B2cPending) and "status-result URL" in status.description
    bodies = fake_daraja.json_bodies_to(TRANSACTION_STATUS_PATH)
    assert len(bodies) == 2, "an idempotent query is retried"
    assert bodies[-1] == {
        "Initiator": "testapi",
        "SecurityCredential": CREDENTIAL,
        "CommandID": "TransactionStatusQuery",
        "OriginalConversationID": "wd_01jabc",
        "PartyA": "600996",
        "IdentifierType": "4",
        "ResultURL": f"https://payout.example.test/callbacks/b2c/result/{TOKEN}",
        "QueueTimeOutURL": f"https://payout.example.test/callbacks/b2c/timeout/{TOKEN}",
        "Remarks": "Payout status",
        "Occasion": "wd_01jabc",
    }


async def test_status_query_refusals(b2c: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(TRANSACTION_STATUS_PATH, daraja_json(400, {"errorCode": "400.002.02", "errorMessage": "Bad"}))
    with pytest.raises(ProviderRejected):
        await b2c.query_payment_status("wd_01jabc", None)
    with pytest.raises(ProviderRejected):
        await b2c.query_payment_status("not valid", None)


async def test_b2c_needs_its_settings(daraja: DarajaClient) -> None:
    with pytest.raises(ProviderRejected) as raised:
        await daraja.pay(payout())
    assert raised.value.provider_code == "B2C_NOT_CONFIGURED"
    with pytest.raises(ProviderRejected):
        await daraja.query_payment_status("wd_01jabc", None)


def test_b2c_settings_validate_urls_and_hide_the_credential(b2c_settings: DarajaSettings) -> None:
    assert CREDENTIAL not in repr(b2c_settings) + str(b2c_settings.model_dump())
    assert b2c_settings.b2c_status_result_url_with_token().endswith(TOKEN)
    with pytest.raises(ValidationError, match="callback_token"):
        b2c_settings.model_validate(
            b2c_settings.model_dump() | {"b2c_result_url": "https://x.test/result", "callback_token": TOKEN}
        )


# Safaricom's documented samples (Business To Customer and Transaction Status pages).
SUCCESS_SAMPLE = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "53e3-4aa8-9fe0-8fb5e4092cdd3533373",
        "ConversationID": "AG_20240706_2010364430d9bbdaf872",
        "TransactionID": "SG632NMUAB",
        "ResultParameters": {
            "ResultParameter": [
                {"Key": "TransactionAmount", "Value": 10},
                {"Key": "TransactionReceipt", "Value": "SG632NMUAB"},
                {"Key": "ReceiverPartyPublicName", "Value": "254705912645 - NICHOLAS JOHN SONGOK"},
                {"Key": "TransactionCompletedDateTime", "Value": "06.07.2024 22:48:52"},
                {"Key": "B2CUtilityAccountAvailableFunds", "Value": 8959269.60},
                {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
            ]
        },
        "ReferenceData": {
            "ReferenceItem": {
                "Key": "QueueTimeoutURL",
                "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit",
            }
        },
    }
}
FAILURE_SAMPLE = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 2001,
        "ResultDesc": "The initiator information is invalid.",
        "OriginatorConversationID": "53e3-4aa8-9fe0-8fb5e4092cdd3544366",
        "ConversationID": "AG_20240707_201062f6f6f5804f7a33",
        "TransactionID": "SG722NMVXQ",
    }
}
STATUS_SAMPLE = {
    "Result": {
        "ConversationID": "AG_20180223_0000493344ae97d86f75",
        "OriginatorConversationID": "3213-416199-2",
        "ReferenceData": {"ReferenceItem": {"Key": "Occasion"}},
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "ResultParameters": {
            "ResultParameter": [
                {"Key": "OriginatorConversationID", "Value": "3211-416020-3"},
                {"Key": "InitiatedTime", "Value": "20180223054112"},
                {"Key": "TransactionReason"},
                {"Key": "TransactionStatus", "Value": "Completed"},
                {"Key": "FinalisedTime", "Value": "20180223054112"},
                {"Key": "Amount", "Value": "300"},
                {"Key": "ConversationID", "Value": "AG_20180223_000041b09c22e613d6c9"},
                {"Key": "ReceiptNo", "Value": "MBN31H462N"},
            ]
        },
        "ResultType": 0,
        "TransactionID": "MBN0000000",
    }
}
REVERSAL_SAMPLE = {
    "Result": {
        "ResultType": 0,
        "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "dad6-4c34-8787-c8cb963a496d1268232",
        "ConversationID": "AG_20211114_201018edbbf9f1582eaa",
        "TransactionID": "SKE52PAWR9",
        "ResultParameters": {
            "ResultParameter": [
                {"Key": "Amount", "Value": 1.00},
                {"Key": "TransCompletedTime", "Value": 20211114132711},
                {"Key": "OriginalTransactionID", "Value": "SKC82PACB8"},
                {"Key": "CreditPartyPublicName", "Value": "254705912645 - NICHOLAS JOHN SONGOK"},
            ]
        },
    }
}


def encode(sample: dict[str, object]) -> bytes:
    return json.dumps(sample).encode()


async def test_documented_success_result(b2c: DarajaClient) -> None:
    result = b2c.parse_result_callback(encode(SUCCESS_SAMPLE), {})
    assert result.kind is B2cResultKind.PAYMENT
    assert (result.originator_conversation_id, result.conversation_id, result.transaction_id) == (
        "53e3-4aa8-9fe0-8fb5e4092cdd3533373",
        "AG_20240706_2010364430d9bbdaf872",
        "SG632NMUAB",
    )
    assert (result.receipt, result.amount_minor, result.currency) == ("SG632NMUAB", 1_000, "KES")
    assert result.completed_at == datetime(2024, 7, 6, 22, 48, 52, tzinfo=EAT)
    assert result.receiver_public_name == "254705912645 - NICHOLAS JOHN SONGOK"
    assert isinstance(result.to_status(), B2cSucceeded)


def test_documented_failure_result() -> None:
    result = parse_daraja_b2c_result(encode(FAILURE_SAMPLE))
    assert (result.kind, result.result_code, result.receipt) == (B2cResultKind.PAYMENT, 2001, None)
    status = result.to_status()
    assert isinstance(status, B2cFailed) and status.description == "The initiator information is invalid."


def test_documented_status_answer_names_the_queried_payment() -> None:
    result = parse_daraja_b2c_result(encode(STATUS_SAMPLE))
    assert result.kind is B2cResultKind.STATUS_QUERY
    assert result.originator_conversation_id == "3211-416020-3", "the payment's id, not the query's"
    assert (result.receipt, result.amount_minor, result.transaction_status) == ("MBN31H462N", 30_000, "Completed")
    assert result.conversation_id == "AG_20180223_000041b09c22e613d6c9"
    assert result.completed_at == datetime(2018, 2, 23, 5, 41, 12, tzinfo=EAT)
    status = result.to_status()
    assert isinstance(status, B2cSucceeded) and status.receipt == "MBN31H462N"


def test_documented_reversal_result() -> None:
    result = parse_daraja_b2c_result(encode(REVERSAL_SAMPLE))
    assert (result.kind, result.receipt, result.amount_minor) == (B2cResultKind.REVERSAL, "SKC82PACB8", 100)
    assert result.completed_at == datetime(2021, 11, 14, 13, 27, 11, tzinfo=EAT)
    assert isinstance(result.to_status(), B2cReversed)


def test_status_answers_built_for_service_tests_round_trip() -> None:
    finalised = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    body = build_daraja_b2c_status_result(
        originator_conversation_id="wd_1",
        query_originator_conversation_id="1-2-3",
        query_conversation_id="AG_Q",
        receipt="RCPT000001",
        amount_minor=5_000,
        finalised_at=finalised,
    )
    result = parse_daraja_b2c_result(body)
    assert (result.originator_conversation_id, result.receipt, result.completed_at) == ("wd_1", "RCPT000001", finalised)
    failed_query = build_daraja_b2c_status_result(
        originator_conversation_id="wd_1",
        query_originator_conversation_id="1-2-3",
        query_conversation_id="AG_Q",
        result_code=ResultCode.parse("SFC_IC0003"),
    )
    pending = parse_daraja_b2c_result(failed_query).to_status()
    assert pending == B2cPending("wd_1", pending.description), "a failed query never fails the payment"


def test_lone_parameter_objects_and_decimal_amounts_are_read() -> None:
    body = build_daraja_b2c_result(
        originator_conversation_id="wd_1",
        conversation_id="AG_1",
        transaction_id="R1",
        result_code=ResultCode.SUCCESS,
        amount_minor=150_000,
        receipt="R1",
        completed_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    result = parse_daraja_b2c_result(body)
    assert result.amount_minor == 150_000
    sample = json.loads(encode(SUCCESS_SAMPLE))
    sample["Result"]["ResultParameters"]["ResultParameter"][0]["Value"] = "10.50"
    assert parse_daraja_b2c_result(json.dumps(sample).encode()).amount_minor == 1_050
    single = {"Result": FAILURE_SAMPLE["Result"] | {"ReferenceData": {"ReferenceItem": [{"Key": "QueueTimeoutURL"}]}}}
    assert parse_daraja_b2c_result(encode(single)).kind is B2cResultKind.PAYMENT


def test_non_numeric_result_code_is_a_failure_with_its_text() -> None:
    sample = {"Result": FAILURE_SAMPLE["Result"] | {"ResultCode": "SFC_IC0003", "ResultDesc": ""}}
    status = parse_daraja_b2c_result(encode(sample)).to_status()
    assert isinstance(status, B2cFailed) and status.result_code.value == "SFC_IC0003"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"Result": {}}',
        json.dumps({"Result": SUCCESS_SAMPLE["Result"] | {"ResultParameters": {"ResultParameter": []}}}).encode(),
        json.dumps({"Result": FAILURE_SAMPLE["Result"] | {"ResultCode": "not a code!"}}).encode(),
        json.dumps({"Result": FAILURE_SAMPLE["Result"] | {"OriginatorConversationID": ""}}).encode(),
        json.dumps({"Result": STATUS_SAMPLE["Result"] | {"ResultParameters": {"ResultParameter": []}}}).encode(),
        b"{" + b" " * 70_000 + b"}",
    ],
)
def test_malformed_results_are_refused(body: bytes) -> None:
    with pytest.raises(CallbackInvalid):
        parse_daraja_b2c_result(body)


async def test_timeout_notice_names_the_payment(b2c: DarajaClient) -> None:
    client = b2c
    notice = build_daraja_b2c_timeout(originator_conversation_id="wd_1", conversation_id="AG_1")
    assert client.parse_timeout_callback(notice, {}) == "wd_1"
    assert parse_daraja_b2c_timeout(b'{"OriginatorConversationID": "wd_2"}') == "wd_2"
    with pytest.raises(CallbackInvalid):
        parse_daraja_b2c_result(notice)  # a notice is never mistaken for a result
    for bad in (b"{}", b"nope", b'{"Result": {"OriginatorConversationID": 5}}'):
        with pytest.raises(CallbackInvalid):
            parse_daraja_b2c_timeout(bad)
    client.verify_callback_token(TOKEN)
    with pytest.raises(CallbackRejected):
        client.verify_callback_token("wrong")
