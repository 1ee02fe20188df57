"""Interpret Daraja's HTTP answers (status + JSON) as domain values or typed errors. No I/O.

Daraja's error body is `{"requestId", "errorCode", "errorMessage"}`. One 500 is not an error:
the status query answers HTTP 500 with errorCode 500.001.1001 "The transaction is being
processed" while the customer has not yet answered the prompt.
"""

from __future__ import annotations

import json
from typing import Any

from clearway.providers.mobile_money.contract import (
    PENDING_DESCRIPTION,
    StkFailed,
    StkPending,
    StkPushAccepted,
    StkStatus,
    StkSucceeded,
)
from clearway.providers.mobile_money.daraja.payloads import MPESA_CURRENCY
from clearway.providers.mobile_money.errors import (
    ProviderAuthenticationFailed,
    ProviderRejected,
    ProviderUnavailable,
    StkPushOutcomeUnknown,
)
from clearway.providers.mobile_money.result_codes import ResultCode

QUERY_PENDING_ERROR_CODE = "500.001.1001"
TOKEN_LIFETIME_S_MAX = 24 * 3600
TEXT_LENGTH_MAX = 512


def decode_json_object(content: bytes) -> dict[str, Any] | None:
    try:
        decoded = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _text(body: dict[str, Any] | None, field: str) -> str:
    value = body.get(field) if body else None
    return str(value)[:TEXT_LENGTH_MAX] if value is not None else ""


def _error_code(body: dict[str, Any] | None) -> str | None:
    return _text(body, "errorCode") or None


def _rejected(status_code: int, body: dict[str, Any] | None, what: str) -> ProviderRejected:
    message = _text(body, "errorMessage") or _text(body, "ResponseDescription") or f"HTTP {status_code}"
    return ProviderRejected(f"Daraja refused the {what}: {message}", provider_code=_error_code(body))


def interpret_token_response(status_code: int, content: bytes) -> tuple[str, int]:
    """-> (access_token, expires_in_s). Raise ProviderUnavailable (retry) or ProviderAuthenticationFailed."""
    body = decode_json_object(content)
    if status_code >= 500:
        raise ProviderUnavailable(f"Daraja token endpoint answered {status_code}", provider_code=_error_code(body))
    if status_code != 200:
        raise ProviderAuthenticationFailed(
            f"Daraja refused the consumer credentials (HTTP {status_code})", provider_code=_error_code(body)
        )
    token = _text(body, "access_token")
    try:
        expires_in_s = int(_text(body, "expires_in"))
    except ValueError:
        expires_in_s = 0
    if not token or not 0 < expires_in_s <= TOKEN_LIFETIME_S_MAX:
        raise ProviderUnavailable("Daraja token response is unreadable")
    return token, expires_in_s


def interpret_stk_push_response(status_code: int, content: bytes) -> StkPushAccepted:
    body = decode_json_object(content)
    if status_code >= 500:
        # The gateway answered with an error, so the push was not taken on.
        raise ProviderUnavailable(f"Daraja STK push answered {status_code}", provider_code=_error_code(body))
    if status_code >= 400:
        raise _rejected(status_code, body, "STK push")
    if body is None:
        raise StkPushOutcomeUnknown("Daraja accepted the STK push call but its answer is unreadable")
    if _text(body, "ResponseCode") != "0":
        raise _rejected(status_code, body, "STK push")
    checkout_request_id = _text(body, "CheckoutRequestID")
    if not checkout_request_id:
        raise StkPushOutcomeUnknown("Daraja STK push answer has no CheckoutRequestID")
    return StkPushAccepted(
        merchant_request_id=_text(body, "MerchantRequestID"),
        checkout_request_id=checkout_request_id,
        customer_message=_text(body, "CustomerMessage"),
    )


def interpret_query_response(checkout_request_id: str, status_code: int, content: bytes) -> StkStatus:
    body = decode_json_object(content)
    if _error_code(body) == QUERY_PENDING_ERROR_CODE:
        return StkPending(checkout_request_id, _text(body, "errorMessage") or PENDING_DESCRIPTION)
    if status_code >= 500 or (status_code == 200 and body is None):
        raise ProviderUnavailable(f"Daraja status query answered {status_code}", provider_code=_error_code(body))
    if status_code >= 400 or body is None or _text(body, "ResponseCode") != "0":
        raise _rejected(status_code, body, "status query")
    try:
        result_code = ResultCode(int(_text(body, "ResultCode")))
    except ValueError as error:
        raise ProviderUnavailable("Daraja status query answer has no ResultCode") from error
    description = _text(body, "ResultDesc") or result_code.description
    if result_code.is_success:
        # The query does not echo receipt, amount or phone; see StkSucceeded.
        return StkSucceeded(checkout_request_id=checkout_request_id, currency=MPESA_CURRENCY)
    if not result_code.is_final:
        return StkPending(checkout_request_id, description)
    return StkFailed(checkout_request_id, result_code, description)
