"""Mobile money (M-Pesa STK push C2B): the provider contract, the Daraja client and a sandbox.

Everything a service needs is importable from here; see libs/providers/README.md.
"""

from clearway.providers.mobile_money.callbacks import (
    CallbackDelivery,
    callback_dedupe_key,
    callback_fingerprint,
    classify_callback_delivery,
    verify_callback_token,
)
from clearway.providers.mobile_money.contract import (
    MobileMoneyProvider,
    StkCallback,
    StkFailed,
    StkPending,
    StkPushAccepted,
    StkPushRequest,
    StkStatus,
    StkSucceeded,
)
from clearway.providers.mobile_money.daraja import DARAJA_CALLBACK_ACK, DarajaClient, DarajaSettings
from clearway.providers.mobile_money.errors import (
    AccessTokenUnavailable,
    CallbackInvalid,
    CallbackRejected,
    InvalidPhoneNumber,
    InvalidStkPushRequest,
    ProviderAuthenticationFailed,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    StkPushOutcomeUnknown,
)
from clearway.providers.mobile_money.phone import DEFAULT_REGION, is_e164, mask_phone, normalise_phone
from clearway.providers.mobile_money.result_codes import ResultCode, ResultKind
from clearway.providers.mobile_money.sandbox import (
    SandboxOutcome,
    SandboxProvider,
    SandboxRequest,
    Scenario,
    sandbox_control_router,
)

__all__ = [
    "DARAJA_CALLBACK_ACK",
    "DEFAULT_REGION",
    "AccessTokenUnavailable",
    "CallbackDelivery",
    "CallbackInvalid",
    "CallbackRejected",
    "DarajaClient",
    "DarajaSettings",
    "InvalidPhoneNumber",
    "InvalidStkPushRequest",
    "MobileMoneyProvider",
    "ProviderAuthenticationFailed",
    "ProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "ResultCode",
    "ResultKind",
    "SandboxOutcome",
    "SandboxProvider",
    "SandboxRequest",
    "Scenario",
    "StkCallback",
    "StkFailed",
    "StkPending",
    "StkPushAccepted",
    "StkPushOutcomeUnknown",
    "StkPushRequest",
    "StkStatus",
    "StkSucceeded",
    "callback_dedupe_key",
    "callback_fingerprint",
    "classify_callback_delivery",
    "is_e164",
    "mask_phone",
    "normalise_phone",
    "sandbox_control_router",
    "verify_callback_token",
]
