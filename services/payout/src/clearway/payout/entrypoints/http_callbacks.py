"""The B2C rail's callbacks: a payout's result and the queue-timeout notice.

Called by the rail, not by a client: no API key, the secret token in the path proves the caller
instead, which is why that path segment is redacted from every log line
(`clearway.platform.callback_redaction`). Daraja expects its ack body with 200, also for an answer
that changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from clearway.payout.entrypoints.dependencies import ContextDep
from clearway.payout.service import callbacks
from clearway.platform.errors import BadRequest, NotFound
from clearway.providers.mobile_money import DARAJA_CALLBACK_ACK

ROUTE_PREFIX = "/api/v1/payments/payouts"
CALLBACK_BODY_BYTES_MAX = 64 * 1024

router = APIRouter(prefix=ROUTE_PREFIX, include_in_schema=False)


def result_path(provider: str, callback_token: str) -> str:
    return f"{ROUTE_PREFIX}/callbacks/{provider}/{callback_token}/result"


def timeout_path(provider: str, callback_token: str) -> str:
    return f"{ROUTE_PREFIX}/callbacks/{provider}/{callback_token}/timeout"


async def _bounded_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    body = await request.body()
    if len(body) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    return body


def _require_provider(provider: str, context: ContextDep) -> None:
    if provider != context.mobile_money.name:
        raise NotFound("No such callback.", code="CALLBACK_PROVIDER_UNKNOWN")


@router.post("/callbacks/{provider}/{callback_token}/result")
async def payout_result(provider: str, callback_token: str, request: Request, context: ContextDep) -> Any:
    _require_provider(provider, context)
    await callbacks.handle_result(context, callback_token, await _bounded_body(request), dict(request.headers))
    return JSONResponse(DARAJA_CALLBACK_ACK)


@router.post("/callbacks/{provider}/{callback_token}/timeout")
async def payout_timeout(provider: str, callback_token: str, request: Request, context: ContextDep) -> Any:
    _require_provider(provider, context)
    await callbacks.handle_timeout(context, callback_token, await _bounded_body(request), dict(request.headers))
    return JSONResponse(DARAJA_CALLBACK_ACK)
