"""`SandboxProvider`: an in-memory M-Pesa for development and tests.

It behaves like Daraja from the workflow's side: a push is accepted at once, the simulated
customer answers after the scenario's delay, and the callback is the same Daraja JSON a real
push produces (so the service's callback handler is exercised unchanged). Callbacks go to an
injected async `deliver(body)`; they are sent by `deliver_due()` (tests, with a ManualClock) or
by `run_delivery_loop()` (demos, with the real clock), never from inside `initiate_stk_push`,
because a real callback cannot overtake the push's own answer.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ulid import ULID

from clearway.platform.logging import get_logger
from clearway.providers.clock import Clock, utc_now
from clearway.providers.mobile_money.callbacks import verify_callback_token
from clearway.providers.mobile_money.contract import (
    StkCallback,
    StkFailed,
    StkPending,
    StkPushAccepted,
    StkPushRequest,
    StkStatus,
    StkSucceeded,
)
from clearway.providers.mobile_money.daraja.callback_builder import build_daraja_stk_callback
from clearway.providers.mobile_money.daraja.callback_parser import parse_daraja_stk_callback
from clearway.providers.mobile_money.daraja.payloads import kenyan_msisdn, whole_shillings
from clearway.providers.mobile_money.errors import ProviderRejected
from clearway.providers.mobile_money.phone import DEFAULT_REGION, mask_phone
from clearway.providers.mobile_money.sandbox.scenarios import SandboxOutcome, Scenario, ScenarioBook

Deliver = Callable[[bytes], Awaitable[None]]
REQUESTS_KEPT_MAX = 10_000
DELIVERIES_PER_CALL_MAX = 1_000
AMOUNT_MAJOR_MAX = 250_000
RECEIPT_LENGTH = 10
logger = get_logger("clearway.providers.sandbox")


@dataclass(frozen=True, slots=True)
class SandboxRequest:
    """One simulated push, as the control API shows it."""

    checkout_request_id: str
    merchant_request_id: str
    phone: str
    amount_minor: int
    currency: str
    account_reference: str
    outcome: SandboxOutcome
    requested_at: datetime
    answers_at: datetime
    receipt: str | None
    callbacks_delivered: int = 0
    callback_due: bool = False
    last_delivery_error: str | None = None


class SandboxProvider:
    """Implements `MobileMoneyProvider` in memory, with an injectable clock.

    Request ids are ULIDs, never a counter: the platform stores them with a unique constraint and
    keeps them across restarts, while this simulator forgets everything when its process stops.
    A counter from 1 would hand a restarted platform ids it already holds (issue 12, defect 1).
    """

    def __init__(
        self,
        deliver: Deliver | None = None,
        *,
        clock: Clock = utc_now,
        default_scenario: Scenario = Scenario(SandboxOutcome.APPROVE),
        callback_token: str | None = None,
        id_prefix: str = "SBX",
        default_region: str = DEFAULT_REGION,
    ) -> None:
        assert id_prefix.isalnum() and id_prefix.isupper() and len(id_prefix) <= 4, "id_prefix: up to 4 A-Z/0-9"
        self._deliver = deliver
        self._clock = clock
        self._callback_token = callback_token
        self._id_prefix = id_prefix
        self.default_region = default_region
        self.scenarios = ScenarioBook(default_scenario)
        self._requests: OrderedDict[str, SandboxRequest] = OrderedDict()

    @property
    def name(self) -> str:
        return "sandbox"

    def set_deliver(self, deliver: Deliver) -> None:
        """Wire the callback sink after construction (an app may exist only after the provider)."""
        self._deliver = deliver

    def set_phone_scenario(self, phone_e164: str, outcome: SandboxOutcome, *, delay_ms: int = 0) -> None:
        self.scenarios.set_for_phone(phone_e164, Scenario(outcome, delay_ms))

    def queue_next_scenario(self, outcome: SandboxOutcome, *, delay_ms: int = 0) -> None:
        self.scenarios.queue_next(Scenario(outcome, delay_ms))

    def requests(self) -> list[SandboxRequest]:
        """Every push still kept, oldest first."""
        return list(self._requests.values())

    def request(self, checkout_request_id: str) -> SandboxRequest:
        found = self._requests.get(checkout_request_id)
        if found is None:
            raise ProviderRejected("unknown CheckoutRequestID", provider_code="SANDBOX_UNKNOWN_CHECKOUT_REQUEST")
        return found

    def _receipt(self, unique: str) -> str:
        # M-Pesa receipts are 10 upper-case letters and digits (e.g. "PDL72WRAVZ"); the tail of a
        # ULID is its random part, so receipts of different runs and instances do not repeat.
        return f"{self._id_prefix}{unique[-(RECEIPT_LENGTH - len(self._id_prefix)) :]}"

    def _remember(self, record: SandboxRequest) -> None:
        self._requests[record.checkout_request_id] = record
        while len(self._requests) > REQUESTS_KEPT_MAX:
            self._requests.popitem(last=False)

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted:
        # The same rules as M-Pesa, so code that passes here does not fail against Daraja.
        whole_shillings(request.amount_minor, request.currency, amount_major_max=AMOUNT_MAJOR_MAX)
        kenyan_msisdn(request.phone)
        unique = str(ULID())
        scenario = self.scenarios.take(request.phone)
        now = self._clock()
        record = SandboxRequest(
            checkout_request_id=f"ws_CO_{self._id_prefix}_{unique}",
            merchant_request_id=f"{self._id_prefix}-{unique}-1",
            phone=request.phone,
            amount_minor=request.amount_minor,
            currency=request.currency,
            account_reference=request.account_reference,
            outcome=scenario.outcome,
            requested_at=now,
            answers_at=now + timedelta(milliseconds=scenario.delay_ms),
            receipt=self._receipt(unique) if scenario.outcome.result_code.is_success else None,
            callback_due=scenario.outcome.sends_callback,
        )
        self._remember(record)
        logger.info(
            "sandbox stk push accepted",
            checkout_request_id=record.checkout_request_id,
            phone=mask_phone(request.phone),
            outcome=scenario.outcome.value,
            delay_ms=scenario.delay_ms,
        )
        return StkPushAccepted(
            merchant_request_id=record.merchant_request_id,
            checkout_request_id=record.checkout_request_id,
            customer_message="Success. Request accepted for processing",
        )

    async def query_stk_status(self, checkout_request_id: str) -> StkStatus:
        record = self.request(checkout_request_id)
        if self._clock() < record.answers_at:
            return StkPending(checkout_request_id)
        code = record.outcome.result_code
        if code.is_success:
            return StkSucceeded(
                checkout_request_id=checkout_request_id,
                currency=record.currency,
                receipt=record.receipt,
                amount_minor=record.amount_minor,
                phone=record.phone,
            )
        return StkFailed(checkout_request_id, code, code.description)

    def callback_body(self, checkout_request_id: str) -> bytes:
        """The Daraja-shaped callback for an answered push (also for lost ones, for replay tests)."""
        record = self.request(checkout_request_id)
        succeeded = record.outcome.result_code.is_success
        return build_daraja_stk_callback(
            merchant_request_id=record.merchant_request_id,
            checkout_request_id=record.checkout_request_id,
            result_code=record.outcome.result_code,
            amount_minor=record.amount_minor if succeeded else None,
            currency=record.currency,
            mpesa_receipt=record.receipt,
            phone=record.phone if succeeded else None,
            transaction_date=record.answers_at if succeeded else None,
        )

    async def _deliver_one(self, checkout_request_id: str) -> bool:
        assert self._deliver is not None, "SandboxProvider needs deliver= (or set_deliver) to send callbacks"
        body = self.callback_body(checkout_request_id)
        try:
            await self._deliver(body)
        except Exception as error:
            # Daraja does not retry a failed callback either; the status query still answers.
            self._update(checkout_request_id, last_delivery_error=f"{type(error).__name__}: {error}"[:200])
            logger.warning("sandbox callback delivery failed", checkout_request_id=checkout_request_id)
            return False
        record = self._requests.get(checkout_request_id)
        if record is not None:
            self._update(checkout_request_id, callbacks_delivered=record.callbacks_delivered + 1)
        return True

    def _update(self, checkout_request_id: str, **changes: object) -> None:
        record = self._requests.get(checkout_request_id)
        if record is not None:  # evicted while the callback was in flight: nothing left to update
            self._requests[checkout_request_id] = replace(record, **changes)  # type: ignore[arg-type]

    async def deliver_due(self) -> int:
        """Send every callback whose time has come (at most DELIVERIES_PER_CALL_MAX); -> how many sent."""
        now = self._clock()
        due = [r.checkout_request_id for r in self._requests.values() if r.callback_due and r.answers_at <= now]
        due = due[:DELIVERIES_PER_CALL_MAX]
        # Marked before any await, so a concurrent caller cannot send the same callback twice.
        for checkout_request_id in due:
            self._update(checkout_request_id, callback_due=False)
        delivered = 0
        for checkout_request_id in due:
            delivered += await self._deliver_one(checkout_request_id)
        return delivered

    async def redeliver(self, checkout_request_id: str) -> bool:
        """Send an answered push's callback again, as rails sometimes do: for duplicate-handling tests."""
        record = self.request(checkout_request_id)
        if self._clock() < record.answers_at:
            raise ProviderRejected("the simulated customer has not answered yet", provider_code="SANDBOX_NOT_ANSWERED")
        return await self._deliver_one(checkout_request_id)

    async def run_delivery_loop(self, *, poll_interval_ms: int = 100) -> None:
        """Deliver callbacks as they fall due, until cancelled (run it as a task in dev/demo apps)."""
        assert 1 <= poll_interval_ms <= 60_000
        while True:
            await self.deliver_due()
            await asyncio.sleep(poll_interval_ms / 1000)

    def verify_callback_token(self, presented: str | None) -> None:
        if self._callback_token is not None:
            verify_callback_token(self._callback_token, presented)

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> StkCallback:
        del headers
        return parse_daraja_stk_callback(body, default_region=self.default_region)
