"""`sandbox_control_router(provider)`: steer the sandbox over HTTP in tests and demos.

Mount it only when the sandbox provider is configured, and behind the service's auth
dependency (`dependencies=[...]`); it is a test tool, not part of any production surface.
Errors are platform ProblemErrors, so the app needs `install_error_handlers`.

One router steers pushes (c2b) and payouts (b2c) alike: scenarios apply to the next request of
either kind, `/requests` lists both (`kind`; for a payout `id` and `checkout_request_id` hold the
ConversationID and `originator_conversation_id` ours), and `{request_id}` in a path may be a
CheckoutRequestID, a ConversationID or an OriginatorConversationID.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.params import Depends
from pydantic import BaseModel, Field

from clearway.platform.errors import BusinessRuleViolation, Conflict, NotFound
from clearway.providers.mobile_money.errors import InvalidPhoneNumber, ProviderRejected
from clearway.providers.mobile_money.phone import mask_phone, normalise_phone
from clearway.providers.mobile_money.sandbox.core import UNKNOWN_REQUEST, RequestKind
from clearway.providers.mobile_money.sandbox.provider import SandboxProvider, SandboxRequest
from clearway.providers.mobile_money.sandbox.scenarios import SCENARIO_DELAY_MS_MAX, SandboxOutcome

ROUTE_PREFIX = "/sandbox/mobile-money"
REQUESTS_PAGE_MAX = 1_000


class ScenarioCreate(BaseModel):
    phone: str | None = Field(default=None, max_length=32, description="Omit to apply to the next request only")
    outcome: SandboxOutcome
    delay_ms: int = Field(default=0, ge=0, le=SCENARIO_DELAY_MS_MAX)


class ScenarioOut(BaseModel):
    phone: str | None
    outcome: SandboxOutcome
    delay_ms: int
    applies_to: Literal["phone", "next_request"]


class SandboxRequestOut(BaseModel):
    id: str
    kind: RequestKind
    checkout_request_id: str
    merchant_request_id: str
    phone_masked: str
    amount_minor: int
    currency: str
    account_reference: str
    outcome: SandboxOutcome
    requested_at: datetime
    answers_at: datetime
    receipt: str | None
    callbacks_delivered: int
    callback_due: bool
    last_delivery_error: str | None
    originator_conversation_id: str | None
    reversed_at: datetime | None

    @classmethod
    def of(cls, record: SandboxRequest) -> SandboxRequestOut:
        return cls(
            id=record.id,
            kind=record.kind,
            checkout_request_id=record.checkout_request_id,
            merchant_request_id=record.merchant_request_id,
            phone_masked=mask_phone(record.phone),
            amount_minor=record.amount_minor,
            currency=record.currency,
            account_reference=record.account_reference,
            outcome=record.outcome,
            requested_at=record.requested_at,
            answers_at=record.answers_at,
            receipt=record.receipt,
            callbacks_delivered=record.callbacks_delivered,
            callback_due=record.callback_due,
            last_delivery_error=record.last_delivery_error,
            originator_conversation_id=record.originator_conversation_id,
            reversed_at=record.reversed_at,
        )


class SandboxRequestList(BaseModel):
    data: list[SandboxRequestOut]
    has_more: bool


def _phone_or_problem(raw: str, provider: SandboxProvider) -> str:
    try:
        return normalise_phone(raw, default_region=provider.default_region)
    except InvalidPhoneNumber as error:
        raise BusinessRuleViolation(error.message, code=error.code) from error


def sandbox_control_router(provider: SandboxProvider, *, dependencies: Sequence[Depends] | None = None) -> APIRouter:
    router = APIRouter(prefix=ROUTE_PREFIX, tags=["sandbox"], dependencies=dependencies)

    @router.post("/scenarios", status_code=201)
    async def set_scenario(body: ScenarioCreate) -> ScenarioOut:
        if body.phone is None:
            provider.queue_next_scenario(body.outcome, delay_ms=body.delay_ms)
            return ScenarioOut(phone=None, outcome=body.outcome, delay_ms=body.delay_ms, applies_to="next_request")
        phone = _phone_or_problem(body.phone, provider)
        provider.set_phone_scenario(phone, body.outcome, delay_ms=body.delay_ms)
        return ScenarioOut(phone=phone, outcome=body.outcome, delay_ms=body.delay_ms, applies_to="phone")

    @router.delete("/scenarios", status_code=204)
    async def clear_scenarios() -> None:
        provider.scenarios.clear()

    @router.get("/requests")
    async def list_requests(
        phone: str | None = Query(default=None, max_length=32),
        kind: RequestKind | None = Query(default=None),
        limit: int = Query(default=100, ge=1, le=REQUESTS_PAGE_MAX),
    ) -> SandboxRequestList:
        records = provider.requests()
        if kind is not None:
            records = [record for record in records if record.kind is kind]
        if phone is not None:
            wanted = _phone_or_problem(phone, provider)
            records = [record for record in records if record.phone == wanted]
        records.reverse()  # newest first, as a test usually wants the push it just made
        return SandboxRequestList(
            data=[SandboxRequestOut.of(r) for r in records[:limit]], has_more=len(records) > limit
        )

    @router.post("/requests/{checkout_request_id}/redeliver")
    async def redeliver(checkout_request_id: str) -> dict[str, Any]:
        try:
            delivered = await provider.redeliver(checkout_request_id)
        except ProviderRejected as error:
            raise NotFound(error.message, code="SANDBOX_REQUEST_NOT_READY") from error
        return {"checkout_request_id": checkout_request_id, "delivered": delivered}

    @router.post("/requests/{request_id}/reverse")
    async def reverse(request_id: str) -> dict[str, Any]:
        """Reverse a paid payout: its reversal result goes to the B2C result sink."""
        try:
            record = provider.request(request_id)
            if record.kind is not RequestKind.B2C or record.originator_conversation_id is None:
                raise ProviderRejected("only a payout can be reversed", provider_code="SANDBOX_NOT_REVERSIBLE")
            delivered = await provider.reverse_payment(record.originator_conversation_id)
        except ProviderRejected as error:
            if error.provider_code == UNKNOWN_REQUEST:
                raise NotFound(error.message, code="SANDBOX_REQUEST_NOT_FOUND") from error
            raise Conflict(error.message, code="SANDBOX_NOT_REVERSIBLE") from error
        return {
            "id": record.id,
            "originator_conversation_id": record.originator_conversation_id,
            "delivered": delivered,
        }

    @router.post("/deliveries")
    async def deliver_due() -> dict[str, Any]:
        """Send the callbacks that are due now (for apps that do not run the delivery loop)."""
        return {"delivered": await provider.deliver_due()}

    return router
