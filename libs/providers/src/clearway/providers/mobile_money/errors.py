"""Typed provider errors. Callers branch on the class (or `code`), never on message text.

`retryable` tells a caller whether sending the same call again is safe and may help. An STK push
whose outcome is unknown is deliberately not retryable: a second push is a second prompt on the
customer's phone, and two approvals would take the money twice.
"""

from __future__ import annotations

from typing import ClassVar


class ProviderError(Exception):
    code: ClassVar[str] = "PROVIDER_ERROR"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The rail's own error code (Daraja `errorCode`, e.g. "400.002.02"), for logs and support.
        self.provider_code = provider_code


class InvalidPhoneNumber(ProviderError, ValueError):
    code = "INVALID_PHONE_NUMBER"


class InvalidStkPushRequest(ProviderError, ValueError):
    """The request breaks a rule of the rail (cents on M-Pesa, a too-long reference, ...); nothing was sent."""

    code = "INVALID_STK_PUSH_REQUEST"


class ProviderUnavailable(ProviderError):
    """Network failure or a 5xx: the call had no effect (or is idempotent), so it may be retried later."""

    code = "PROVIDER_UNAVAILABLE"
    retryable = True


class AccessTokenUnavailable(ProviderUnavailable):
    """The OAuth token could not be fetched after the token call's own bounded retries."""

    code = "PROVIDER_TOKEN_UNAVAILABLE"


class StkPushOutcomeUnknown(ProviderError):
    """The push was sent but no answer came back: it may or may not have reached the customer.

    Do not send it again. Keep the payment pending; a callback with an unknown CheckoutRequestID,
    or reconciliation against the provider's statement, settles it.
    """

    code = "PROVIDER_OUTCOME_UNKNOWN"


class ProviderRejected(ProviderError):
    """The rail answered and refused the call (4xx, or a non-zero ResponseCode)."""

    code = "PROVIDER_REJECTED"


class ProviderAuthenticationFailed(ProviderRejected):
    """Consumer key/secret refused: a configuration problem, not worth retrying."""

    code = "PROVIDER_AUTHENTICATION_FAILED"


class CallbackRejected(ProviderError):
    """The callback did not present the shared callback token: answer 401/403 and ignore it."""

    code = "CALLBACK_REJECTED"


class CallbackInvalid(ProviderError):
    """The callback body is not a well-formed provider callback: answer 400 and alert."""

    code = "CALLBACK_INVALID"
