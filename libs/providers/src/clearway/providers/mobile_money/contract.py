"""The mobile-money provider contract: plain domain values, no HTTP or JSON types.

A workflow (funding's top-up) talks to `MobileMoneyProvider` only, so the Daraja client and the
sandbox are interchangeable. Money is integer minor units plus an ISO 4217 code; phone numbers
are E.164 strings (see `phone.normalise_phone`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clearway.platform.money import AMOUNT_MINOR_MAX, is_known_currency
from clearway.providers.mobile_money.errors import InvalidStkPushRequest
from clearway.providers.mobile_money.phone import DEFAULT_REGION, is_e164, normalise_phone
from clearway.providers.mobile_money.result_codes import ResultCode

REFERENCE_LENGTH_MAX = 64
CHECKOUT_REQUEST_ID_LENGTH_MAX = 128
PENDING_DESCRIPTION = "The transaction is being processed."


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class StkPushRequest:
    """Ask the customer's phone to approve paying `amount_minor` `currency` to us."""

    phone: str
    amount_minor: int
    currency: str
    account_reference: str
    description: str

    def __post_init__(self) -> None:
        if not _is_amount(self.amount_minor) or not 0 < self.amount_minor <= AMOUNT_MINOR_MAX:
            raise InvalidStkPushRequest("amount_minor must be a positive integer")
        if not is_known_currency(self.currency):
            raise InvalidStkPushRequest(f"{self.currency[:8]!r} is not an ISO 4217 currency")
        if not is_e164(self.phone):
            raise InvalidStkPushRequest("phone must be a valid E.164 number; use StkPushRequest.create")
        if not 0 < len(self.account_reference) <= REFERENCE_LENGTH_MAX:
            raise InvalidStkPushRequest(f"account_reference must be 1..{REFERENCE_LENGTH_MAX} characters")
        if len(self.description) > REFERENCE_LENGTH_MAX:
            raise InvalidStkPushRequest(f"description must be at most {REFERENCE_LENGTH_MAX} characters")

    @classmethod
    def create(
        cls,
        *,
        phone: str,
        amount_minor: int,
        currency: str,
        account_reference: str,
        description: str = "",
        default_region: str = DEFAULT_REGION,
    ) -> StkPushRequest:
        """Like the constructor, but accepts the phone number as a person typed it."""
        return cls(
            phone=normalise_phone(phone, default_region=default_region),
            amount_minor=amount_minor,
            currency=currency,
            account_reference=account_reference,
            description=description,
        )


@dataclass(frozen=True, slots=True)
class StkPushAccepted:
    """The rail accepted the push; the customer's answer comes later by callback or query."""

    merchant_request_id: str
    checkout_request_id: str
    customer_message: str


@dataclass(frozen=True, slots=True)
class StkPending:
    checkout_request_id: str
    description: str = PENDING_DESCRIPTION


@dataclass(frozen=True, slots=True)
class StkSucceeded:
    """The customer paid. Daraja's status query does not echo receipt, amount or phone, so those
    may be None here: the workflow keeps its own amount and phone and takes the receipt from the
    callback or from reconciliation."""

    checkout_request_id: str
    currency: str
    receipt: str | None = None
    amount_minor: int | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class StkFailed:
    checkout_request_id: str
    result_code: ResultCode
    description: str

    def __post_init__(self) -> None:
        assert not self.result_code.is_success, "a failed status cannot carry the success code"
        assert self.result_code.is_final, "a still-processing code is StkPending, not StkFailed"


StkStatus = StkPending | StkSucceeded | StkFailed


@dataclass(frozen=True, slots=True)
class StkCallback:
    """What the rail posted to our callback URL, verified and parsed."""

    checkout_request_id: str
    merchant_request_id: str
    result_code: ResultCode
    result_desc: str
    currency: str
    amount_minor: int | None = None
    mpesa_receipt: str | None = None
    phone: str | None = None
    transaction_date: datetime | None = None

    def __post_init__(self) -> None:
        assert self.checkout_request_id, "a callback always names its CheckoutRequestID"
        if self.result_code.is_success:
            assert self.mpesa_receipt, "a successful callback carries a receipt"
            assert self.amount_minor is not None and self.amount_minor > 0, "a successful callback carries an amount"
        assert self.transaction_date is None or self.transaction_date.tzinfo is not None

    def to_status(self) -> StkStatus:
        """The same outcome as a status-query answer, so both paths share one handler."""
        if self.result_code.is_success:
            return StkSucceeded(
                checkout_request_id=self.checkout_request_id,
                currency=self.currency,
                receipt=self.mpesa_receipt,
                amount_minor=self.amount_minor,
                phone=self.phone,
            )
        if not self.result_code.is_final:
            return StkPending(self.checkout_request_id, self.result_desc)
        return StkFailed(self.checkout_request_id, self.result_code, self.result_desc)


class MobileMoneyProvider(Protocol):
    """A C2B (customer pays us) mobile-money rail.

    Callback handling is two steps so each can answer its own HTTP status: first
    `verify_callback_token` with the token taken from the callback URL (401 when refused),
    then `parse_callback` with the raw body (400 when malformed).
    """

    @property
    def name(self) -> str:
        """Stable rail name ("daraja", "sandbox") to store as the payment's provider method."""
        ...

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted: ...

    async def query_stk_status(self, checkout_request_id: str) -> StkStatus: ...

    def verify_callback_token(self, presented: str | None) -> None: ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> StkCallback: ...
