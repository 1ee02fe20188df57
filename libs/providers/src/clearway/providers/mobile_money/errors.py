"""Typed provider errors. Callers branch on the class (or `code`), never on message text.

`retryable` tells a caller whether sending the same call again is safe and may help. An STK push
whose outcome is unknown is deliberately not retryable: a second push is a second prompt on the
customer's phone, and two approvals would take the money twice. The same holds for a B2C payment
whose answer was lost: only its result callback or a status query may settle it.
"""

from __future__ import annotations

from clearway.providers.errors import ProviderError as ProviderError


class InvalidPhoneNumber(ProviderError, ValueError):
    code = "INVALID_PHONE_NUMBER"


class InvalidStkPushRequest(ProviderError, ValueError):
    """The request breaks a rule of the rail (cents on M-Pesa, a too-long reference, ...); nothing was sent."""

    code = "INVALID_STK_PUSH_REQUEST"


class InvalidB2cPaymentRequest(ProviderError, ValueError):
    """A payout the rail cannot take (cents on M-Pesa, a non-Kenyan phone, a too-long id, ...); nothing was sent."""

    code = "INVALID_B2C_PAYMENT_REQUEST"


class ProviderUnavailable(ProviderError):
    """Network failure or a 5xx: the call had no effect (or is idempotent), so it may be retried later."""

    code = "PROVIDER_UNAVAILABLE"
    retryable = True


class AccessTokenUnavailable(ProviderUnavailable):
    """The OAuth token could not be fetched after the token call's own bounded retries."""

    code = "PROVIDER_TOKEN_UNAVAILABLE"


class ProviderOutcomeUnknown(ProviderError):
    """A money-moving call was sent but its answer was lost: it may or may not have taken effect."""

    code = "PROVIDER_OUTCOME_UNKNOWN"


class StkPushOutcomeUnknown(ProviderOutcomeUnknown):
    """The push was sent but no answer came back: it may or may not have reached the customer.

    Do not send it again. Keep the payment pending; a callback with an unknown CheckoutRequestID,
    or reconciliation against the provider's statement, settles it.
    """


class B2cPaymentOutcomeUnknown(ProviderOutcomeUnknown):
    """The B2C payment was sent but no readable answer came back: the money may have moved.

    Never void the payout on this. Keep it processing; its result callback or a status query
    (`query_payment_status`) settles it. Re-sending with the same OriginatorConversationID is safe
    (the rail refuses a duplicate), a new id is not.
    """


class B2cDuplicatePayment(B2cPaymentOutcomeUnknown):
    """The rail already holds a payment with this OriginatorConversationID (Daraja answers
    "Duplicate OriginatorConversationID" to a re-send): the first attempt got through, so settle
    by its result callback or a status query. The sandbox instead answers a re-send with the
    first `B2cAccepted`."""

    code = "PROVIDER_DUPLICATE_REQUEST"


class ProviderRejected(ProviderError):
    """The rail answered and refused the call (4xx, or a non-zero ResponseCode)."""

    code = "PROVIDER_REJECTED"


class B2cPaymentUnknown(ProviderRejected):
    """A status query's answer: the rail holds no payment under this OriginatorConversationID.

    The submission never arrived (or, for the in-process sandbox, the rail forgot it when its
    process was killed). Nothing was paid: re-sending with the same OriginatorConversationID is
    the way on, and cannot pay twice (a rail that does hold it refuses the duplicate).
    """

    code = "PROVIDER_PAYMENT_UNKNOWN"


class ProviderAuthenticationFailed(ProviderRejected):
    """Consumer key/secret refused: a configuration problem, not worth retrying."""

    code = "PROVIDER_AUTHENTICATION_FAILED"


class CallbackRejected(ProviderError):
    """The callback did not present the shared callback token: answer 401/403 and ignore it."""

    code = "CALLBACK_REJECTED"


class CallbackInvalid(ProviderError):
    """The callback body is not a well-formed provider callback: answer 400 and alert."""

    code = "CALLBACK_INVALID"
