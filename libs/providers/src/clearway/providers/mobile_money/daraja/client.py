"""`DarajaClient`: Safaricom M-Pesa Daraja over httpx: STK push (C2B) and B2C payouts.

Retries: only idempotent calls (OAuth token, status queries) are retried, a bounded number of
times with exponential backoff, on network errors and 5xx. An STK push is sent once: resending
it would put a second prompt on the customer's phone. A B2C payment is sent once too; a lost
answer raises `B2cPaymentOutcomeUnknown`, and a re-send with the same OriginatorConversationID
is refused by Daraja as a duplicate (`B2cDuplicatePayment`). A 401 on any call means the gateway
refused our token before doing anything, so it is re-sent once with a fresh token.
The B2C TransactionStatus query is asynchronous: it answers `B2cPending`, and Daraja posts the
real answer to the status-result URL, where `parse_result_callback` reads it.

Secrets (consumer secret, passkey, password, token, callback URL) are never logged; logs carry
ids, masked phone numbers, amounts and HTTP statuses.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Self, TypeVar

import httpx

from clearway.platform.logging import get_logger
from clearway.platform.retry import BackoffPolicy
from clearway.providers.clock import Clock, utc_now
from clearway.providers.mobile_money.b2c import (
    B2cAccepted,
    B2cPaymentRequest,
    B2cPending,
    B2cResult,
    B2cStatus,
    is_originator_conversation_id,
)
from clearway.providers.mobile_money.callbacks import verify_callback_token
from clearway.providers.mobile_money.contract import (
    CHECKOUT_REQUEST_ID_LENGTH_MAX,
    StkCallback,
    StkPushAccepted,
    StkPushRequest,
    StkStatus,
)
from clearway.providers.mobile_money.daraja.b2c_callbacks import parse_daraja_b2c_result, parse_daraja_b2c_timeout
from clearway.providers.mobile_money.daraja.b2c_payloads import (
    build_b2c_payment_payload,
    build_transaction_status_payload,
    interpret_b2c_payment_response,
    interpret_transaction_status_response,
)
from clearway.providers.mobile_money.daraja.callback_parser import parse_daraja_stk_callback
from clearway.providers.mobile_money.daraja.payloads import (
    build_query_payload,
    build_stk_push_payload,
    daraja_timestamp,
)
from clearway.providers.mobile_money.daraja.responses import (
    interpret_query_response,
    interpret_stk_push_response,
    interpret_token_response,
)
from clearway.providers.mobile_money.daraja.settings import DarajaSettings
from clearway.providers.mobile_money.daraja.token_cache import AccessTokenCache
from clearway.providers.mobile_money.errors import (
    AccessTokenUnavailable,
    B2cPaymentOutcomeUnknown,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    StkPushOutcomeUnknown,
)
from clearway.providers.mobile_money.phone import mask_phone

TOKEN_PATH = "/oauth/v1/generate"  # noqa: S105 (a URL path)
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
B2C_PAYMENT_PATH = "/mpesa/b2c/v3/paymentrequest"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
STATUS_QUERY_SENT = "Status query sent to Daraja; its answer comes to the status-result URL."
# Errors raised before a request left this process: nothing reached Daraja, whatever the call.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")
logger = get_logger("clearway.providers.daraja")


def _is_retryable(error: BaseException) -> bool:
    # A token failure already used the token call's own retries; retrying the query on top of
    # it would multiply the attempts past the configured bound.
    return isinstance(error, ProviderUnavailable) and not isinstance(error, AccessTokenUnavailable)


class DarajaClient:
    """Implements `MobileMoneyProvider` and `MobileMoneyPayoutProvider`.

    Use as `async with DarajaClient(settings) as client:`. Payouts need the `b2c_*` settings.
    """

    def __init__(
        self,
        settings: DarajaSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        # Idempotent calls only (token, status query). A base above the cap waits the cap.
        self._idempotent_call_backoff = BackoffPolicy(
            attempts_max=settings.retry_attempts_max,
            initial_ms=min(settings.retry_backoff_ms, settings.retry_backoff_max_ms),
            maximum_ms=settings.retry_backoff_max_ms,
        )
        timeout = httpx.Timeout(
            settings.read_timeout_ms / 1000,
            connect=settings.connect_timeout_ms / 1000,
        )
        self._http = httpx.AsyncClient(base_url=settings.base_url, timeout=timeout, transport=transport)
        self._tokens = AccessTokenCache(
            self._fetch_token, clock=clock, refresh_margin_ms=settings.token_refresh_margin_ms
        )

    @property
    def name(self) -> str:
        return "daraja"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _error: BaseException | None, _trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        async for attempt in self._idempotent_call_backoff.retrying(retry_if=_is_retryable, sleep=self._sleep):
            with attempt:
                return await call()
        raise AssertionError("tenacity either returns or re-raises")  # pragma: no cover

    async def _send(
        self, request: httpx.Request, *, idempotent: bool, unknown: type[ProviderOutcomeUnknown] = StkPushOutcomeUnknown
    ) -> httpx.Response:
        """`unknown` is raised when a non-idempotent call was sent and its answer was lost."""
        started = time.perf_counter()
        try:
            response = await self._http.send(request)
        except _NOT_SENT_ERRORS as error:
            raise ProviderUnavailable(f"Daraja unreachable: {type(error).__name__}") from error
        except httpx.TransportError as error:
            if idempotent:
                raise ProviderUnavailable(f"Daraja did not answer: {type(error).__name__}") from error
            raise unknown(f"Daraja did not answer {request.url.path}: {type(error).__name__}") from error
        logger.debug(
            "daraja call",
            path=request.url.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        return response

    async def _fetch_token_once(self) -> tuple[str, int]:
        request = self._http.build_request(
            "GET",
            TOKEN_PATH,
            params={"grant_type": "client_credentials"},
            headers={"Authorization": self._basic_auth()},
        )
        response = await self._send(request, idempotent=True)
        return interpret_token_response(response.status_code, response.content)

    def _basic_auth(self) -> str:
        key = self._settings.consumer_key.get_secret_value()
        secret = self._settings.consumer_secret.get_secret_value()
        return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")

    async def _fetch_token(self) -> tuple[str, int]:
        try:
            token_and_lifetime = await self._retrying(self._fetch_token_once)
        except ProviderUnavailable as error:
            raise AccessTokenUnavailable(error.message, provider_code=error.provider_code) from error
        logger.info("daraja access token refreshed", expires_in_s=token_and_lifetime[1])
        return token_and_lifetime

    async def access_token(self) -> str:
        """The cached OAuth token, fetched when missing or about to expire."""
        return await self._tokens.get()

    async def _authorised_post(
        self,
        path: str,
        payload: Mapping[str, object],
        *,
        idempotent: bool,
        unknown: type[ProviderOutcomeUnknown] = StkPushOutcomeUnknown,
    ) -> httpx.Response:
        token = await self._tokens.get()
        request = self._post_request(path, payload, token)
        response = await self._send(request, idempotent=idempotent, unknown=unknown)
        if response.status_code == 401:
            # Refused at the gateway before any processing, so re-sending even a push is safe.
            logger.info("daraja refused the access token; refreshing once", path=path)
            self._tokens.invalidate(token)
            token = await self._tokens.get()
            response = await self._send(
                self._post_request(path, payload, token), idempotent=idempotent, unknown=unknown
            )
        return response

    def _post_request(self, path: str, payload: Mapping[str, object], token: str) -> httpx.Request:
        return self._http.build_request("POST", path, json=dict(payload), headers={"Authorization": f"Bearer {token}"})

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted:
        payload = build_stk_push_payload(self._settings, request, timestamp=daraja_timestamp(self._clock()))
        log = logger.bind(phone=mask_phone(request.phone), amount_minor=request.amount_minor, currency=request.currency)
        try:
            response = await self._authorised_post(STK_PUSH_PATH, payload, idempotent=False)
            accepted = interpret_stk_push_response(response.status_code, response.content)
        except Exception as error:
            log.warning("daraja stk push failed", error_type=type(error).__name__, error=str(error))
            raise
        log.info(
            "daraja stk push accepted",
            checkout_request_id=accepted.checkout_request_id,
            merchant_request_id=accepted.merchant_request_id,
        )
        return accepted

    async def query_stk_status(self, checkout_request_id: str) -> StkStatus:
        # The id is the rail's own answer read back from storage: refuse it, the resolver logs and moves on.
        if not 0 < len(checkout_request_id) <= CHECKOUT_REQUEST_ID_LENGTH_MAX:
            raise ProviderRejected(f"checkout_request_id must be 1..{CHECKOUT_REQUEST_ID_LENGTH_MAX} characters")

        async def query_once() -> StkStatus:
            timestamp = daraja_timestamp(self._clock())
            payload = build_query_payload(self._settings, checkout_request_id, timestamp=timestamp)
            response = await self._authorised_post(STK_QUERY_PATH, payload, idempotent=True)
            return interpret_query_response(checkout_request_id, response.status_code, response.content)

        status = await self._retrying(query_once)
        logger.info("daraja stk status", checkout_request_id=checkout_request_id, status=type(status).__name__)
        return status

    def verify_callback_token(self, presented: str | None) -> None:
        verify_callback_token(self._settings.callback_token.get_secret_value(), presented)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> StkCallback:
        """Daraja sends no signature header; authenticity comes from `verify_callback_token`."""
        del headers
        callback = parse_daraja_stk_callback(body, default_region=self._settings.phone_default_region)
        logger.info(
            "daraja stk callback parsed",
            checkout_request_id=callback.checkout_request_id,
            result_code=int(callback.result_code),
        )
        return callback

    def _require_b2c(self) -> None:
        if not self._settings.b2c_configured():
            raise ProviderRejected(
                "Daraja B2C is not configured (CLEARWAY_DARAJA_B2C_INITIATOR_NAME, _B2C_SECURITY_CREDENTIAL, "
                "_B2C_RESULT_URL, _B2C_TIMEOUT_URL)",
                provider_code="B2C_NOT_CONFIGURED",
            )

    async def pay(self, request: B2cPaymentRequest) -> B2cAccepted:
        self._require_b2c()
        payload = build_b2c_payment_payload(self._settings, request)
        log = logger.bind(
            originator_conversation_id=request.originator_conversation_id,
            phone=mask_phone(request.phone),
            amount_minor=request.amount_minor,
            currency=request.currency,
        )
        try:
            response = await self._authorised_post(
                B2C_PAYMENT_PATH, payload, idempotent=False, unknown=B2cPaymentOutcomeUnknown
            )
            accepted = interpret_b2c_payment_response(
                request.originator_conversation_id, response.status_code, response.content
            )
        except Exception as error:
            log.warning("daraja b2c payment failed", error_type=type(error).__name__, error=str(error))
            raise
        log.info("daraja b2c payment accepted", conversation_id=accepted.conversation_id)
        return accepted

    async def query_payment_status(self, originator_conversation_id: str, conversation_id: str | None) -> B2cStatus:
        """Sends a TransactionStatus query and answers `B2cPending`; the answer comes by callback."""
        self._require_b2c()
        # The id is our own, read back from storage: refuse a malformed one, the caller logs and moves on.
        if not is_originator_conversation_id(originator_conversation_id):
            raise ProviderRejected("originator_conversation_id is not a valid payment id")

        async def query_once() -> str:
            payload = build_transaction_status_payload(self._settings, originator_conversation_id)
            response = await self._authorised_post(TRANSACTION_STATUS_PATH, payload, idempotent=True)
            return interpret_transaction_status_response(response.status_code, response.content)

        answer = await self._retrying(query_once)
        logger.info(
            "daraja b2c status query sent",
            originator_conversation_id=originator_conversation_id,
            conversation_id=conversation_id,
            answer=answer,
        )
        return B2cPending(originator_conversation_id, STATUS_QUERY_SENT)

    def parse_result_callback(self, body: bytes, headers: Mapping[str, str]) -> B2cResult:
        """A B2C result, a TransactionStatus answer or a reversal result (see `B2cResult.kind`)."""
        del headers
        result = parse_daraja_b2c_result(body)
        logger.info(
            "daraja b2c result parsed",
            originator_conversation_id=result.originator_conversation_id,
            kind=result.kind.value,
            result_code=result.result_code.value,
        )
        return result

    def parse_timeout_callback(self, body: bytes, headers: Mapping[str, str]) -> str:
        del headers
        originator_conversation_id = parse_daraja_b2c_timeout(body)
        logger.info("daraja b2c queue timeout", originator_conversation_id=originator_conversation_id)
        return originator_conversation_id
