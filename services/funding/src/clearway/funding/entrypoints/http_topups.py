"""Top-up routes (seed 001's C2B flow): start a top-up, read it, and the provider's callback.

`POST /api/v1/payments/top-ups` needs an `Idempotency-Key`; the platform middleware replays the
first answer to retries. End users (bearer user tokens) top up their own wallet only: the owner is
their token's `sub`, and another user's top-up reads as 404. The callback route is called by the provider, not by a client: it has
no API key and proves itself with the secret token in its path instead, which is why that path
segment is redacted from every log line (see `CallbackTokenRedactor`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from clearway.funding.entrypoints.dependencies import (
    ContextDep,
    IdempotencyKey,
    TopupReader,
    TopupStarter,
    workspace_id,
)
from clearway.funding.entrypoints.schemas_topups import TopupCreate, TopupOut
from clearway.funding.service import topups
from clearway.platform import callback_redaction
from clearway.platform.errors import BadRequest, NotFound
from clearway.providers.mobile_money import DARAJA_CALLBACK_ACK

ROUTE_PREFIX = "/api/v1/payments/top-ups"
CALLBACK_PATH = "/callbacks/{provider}/{callback_token}"
CALLBACK_BODY_BYTES_MAX = 64 * 1024

router = APIRouter(prefix=ROUTE_PREFIX, tags=["top-ups"])


def callback_path(provider: str, callback_token: str) -> str:
    """Where `provider` POSTs its answers (the sandbox delivers to it in-process)."""
    return f"{ROUTE_PREFIX}{CALLBACK_PATH.format(provider=provider, callback_token=callback_token)}"


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_topup(
    body: TopupCreate, principal: TopupStarter, key: IdempotencyKey, context: ContextDep, response: Response
) -> TopupOut:
    """Prompt the phone to pay; the answer arrives later (poll `GET .../{id}` or consume `topup.*`)."""
    request = topups.TopupRequest(
        workspace_id=workspace_id(principal),
        identity_id=body.identity_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        phone_number=body.phone_number,
        idempotency_key=key,
        user_id=principal.user_id,
    )
    result = await topups.start_topup(context, request)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return TopupOut.from_domain(result.topup)


@router.get("/{topup_id}")
async def get_topup(topup_id: str, principal: TopupReader, context: ContextDep) -> TopupOut:
    topup = await topups.get_topup(context, topup_id, workspace_id=workspace_id(principal), user_id=principal.user_id)
    return TopupOut.from_domain(topup)


@router.post(CALLBACK_PATH, include_in_schema=False)
async def provider_callback(provider: str, callback_token: str, request: Request, context: ContextDep) -> Any:
    """The provider's answer. 200 with Daraja's ack once recorded (or when it changes nothing)."""
    if provider != context.mobile_money_provider().name:
        raise NotFound("No such callback.", code="CALLBACK_PROVIDER_UNKNOWN")
    declared_bytes = request.headers.get("content-length")
    if declared_bytes is not None and declared_bytes.isdigit() and int(declared_bytes) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    body = await request.body()
    if len(body) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    await topups.handle_callback(context, callback_token, body, dict(request.headers))
    return JSONResponse(DARAJA_CALLBACK_ACK)


def install_callback_log_redaction() -> None:
    """The callback token is a credential in a URL path: kept out of every log line (idempotent)."""
    callback_redaction.install_callback_log_redaction(ROUTE_PREFIX)
