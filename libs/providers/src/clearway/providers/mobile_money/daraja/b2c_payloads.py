"""Daraja B2C request bodies and the interpretation of their synchronous answers. No I/O.

B2C payment: POST /mpesa/b2c/v3/paymentrequest. TransactionStatus: POST
/mpesa/transactionstatus/v1/query, asked by OriginalConversationID (our id of the payment);
IdentifierType 4 says PartyA is an organisation shortcode. Both answer at once only with
"accepted"; the outcome is posted later to the ResultURL (QueueTimeOutURL if it expired queued).
"""

from __future__ import annotations

from clearway.providers.mobile_money.b2c import B2cAccepted, B2cPaymentRequest
from clearway.providers.mobile_money.daraja.payloads import kenyan_msisdn, whole_shillings
from clearway.providers.mobile_money.daraja.responses import decode_json_object
from clearway.providers.mobile_money.daraja.settings import DarajaSettings
from clearway.providers.mobile_money.errors import (
    B2cDuplicatePayment,
    B2cPaymentOutcomeUnknown,
    InvalidB2cPaymentRequest,
    ProviderRejected,
    ProviderUnavailable,
)

TRANSACTION_STATUS_COMMAND_ID = "TransactionStatusQuery"
IDENTIFIER_TYPE_SHORTCODE = "4"
# Daraja's "Remarks" must be 2..100 characters.
REMARKS_DEFAULT = "Payout"
STATUS_REMARKS = "Payout status"
# What Daraja answers a re-sent OriginatorConversationID.
DUPLICATE_ERROR_CODE = "500.002.1001"
TEXT_LENGTH_MAX = 512


def _remarks(value: str) -> str:
    return value if len(value) >= 2 else REMARKS_DEFAULT


def build_b2c_payment_payload(settings: DarajaSettings, request: B2cPaymentRequest) -> dict[str, object]:
    """The body of POST /mpesa/b2c/v3/paymentrequest. Holds the security credential: never log it."""
    assert settings.b2c_initiator_name and settings.b2c_security_credential, "B2C settings are not configured"
    msisdn = kenyan_msisdn(request.phone, error=InvalidB2cPaymentRequest, what="B2C")
    amount_major = whole_shillings(
        request.amount_minor,
        request.currency,
        amount_major_max=settings.b2c_amount_major_max,
        error=InvalidB2cPaymentRequest,
        what="B2C",
    )
    payload: dict[str, object] = {
        "OriginatorConversationID": request.originator_conversation_id,
        "InitiatorName": settings.b2c_initiator_name,
        "SecurityCredential": settings.b2c_security_credential.get_secret_value(),
        "CommandID": settings.b2c_command_id,
        "Amount": amount_major,
        "PartyA": settings.b2c_party_a(),
        "PartyB": msisdn,
        "Remarks": _remarks(request.remarks),
        "QueueTimeOutURL": settings.b2c_timeout_url_with_token(),
        "ResultURL": settings.b2c_result_url_with_token(),
    }
    if request.occasion:
        payload["Occassion"] = request.occasion  # sic: Daraja's spelling of the B2C field
    return payload


def build_transaction_status_payload(settings: DarajaSettings, originator_conversation_id: str) -> dict[str, object]:
    """The body of POST /mpesa/transactionstatus/v1/query for one of our payments, by its id.

    `Occasion` carries our id too: Daraja echoes it in the result's ReferenceData, a second way
    to tie the answer to the payment. Holds the security credential: never log it.
    """
    assert settings.b2c_initiator_name and settings.b2c_security_credential, "B2C settings are not configured"
    return {
        "Initiator": settings.b2c_initiator_name,
        "SecurityCredential": settings.b2c_security_credential.get_secret_value(),
        "CommandID": TRANSACTION_STATUS_COMMAND_ID,
        "OriginalConversationID": originator_conversation_id,
        "PartyA": settings.b2c_party_a(),
        "IdentifierType": IDENTIFIER_TYPE_SHORTCODE,
        "ResultURL": settings.b2c_status_result_url_with_token(),
        "QueueTimeOutURL": settings.b2c_timeout_url_with_token(),
        "Remarks": STATUS_REMARKS,
        "Occasion": originator_conversation_id,
    }


def _text(body: dict[str, object] | None, field: str) -> str:
    value = body.get(field) if body else None
    return str(value)[:TEXT_LENGTH_MAX] if value is not None else ""


def _is_duplicate(body: dict[str, object] | None) -> bool:
    message = _text(body, "errorMessage").lower()
    return "duplicate" in message and (
        _text(body, "errorCode") == DUPLICATE_ERROR_CODE or "originatorconversationid" in message.replace(" ", "")
    )


def _refused(status_code: int, body: dict[str, object] | None, what: str) -> ProviderRejected:
    message = _text(body, "errorMessage") or _text(body, "ResponseDescription") or f"HTTP {status_code}"
    return ProviderRejected(f"Daraja refused the {what}: {message}", provider_code=_text(body, "errorCode") or None)


def interpret_b2c_payment_response(originator_conversation_id: str, status_code: int, content: bytes) -> B2cAccepted:
    body = decode_json_object(content)
    if _is_duplicate(body):
        raise B2cDuplicatePayment(
            "Daraja already has a payment with this OriginatorConversationID", provider_code=_text(body, "errorCode")
        )
    if status_code >= 500:
        # The gateway answered with an error: not taken on. A re-send with the same id is safe
        # either way, because Daraja refuses a duplicate OriginatorConversationID.
        raise ProviderUnavailable(f"Daraja B2C answered {status_code}", provider_code=_text(body, "errorCode") or None)
    if status_code >= 400:
        raise _refused(status_code, body, "B2C payment")
    if body is None:
        raise B2cPaymentOutcomeUnknown("Daraja accepted the B2C call but its answer is unreadable")
    if _text(body, "ResponseCode") != "0":
        raise _refused(status_code, body, "B2C payment")
    conversation_id = _text(body, "ConversationID")
    if not conversation_id:
        raise B2cPaymentOutcomeUnknown("Daraja B2C answer has no ConversationID")
    echoed = _text(body, "OriginatorConversationID")
    if echoed and echoed != originator_conversation_id:
        raise B2cPaymentOutcomeUnknown("Daraja B2C answer names another OriginatorConversationID")
    return B2cAccepted(
        originator_conversation_id=originator_conversation_id,
        conversation_id=conversation_id,
        response_description=_text(body, "ResponseDescription"),
    )


def interpret_transaction_status_response(status_code: int, content: bytes) -> str:
    """-> Daraja's description of the accepted query; raises like any idempotent call."""
    body = decode_json_object(content)
    if status_code >= 500 or (status_code == 200 and body is None):
        raise ProviderUnavailable(
            f"Daraja status query answered {status_code}", provider_code=_text(body, "errorCode") or None
        )
    if status_code >= 400 or body is None or _text(body, "ResponseCode") != "0":
        raise _refused(status_code, body, "transaction status query")
    return _text(body, "ResponseDescription") or "Accept the service request successfully."
