"""Top-up routes (seed 001's C2B flow): start a top-up, read it, and the provider's callback.

`POST /api/v1/payments/top-ups` needs an `Idempotency-Key`; the platform middleware replays the
first answer to retries. The callback route is called by the provider, not by a client: it has
no API key and proves itself with the secret token in its path instead, which is why that path
segment is redacted from every log line (see `CallbackTokenRedactor`).
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from clearway.funding.domain.topups import (
    ConflictingOutcome,
    IdempotencyKeyReused,
    ProviderReferenceConflict,
    TopupError,
    TopupNotFound,
    TopupRefused,
    UnknownCheckout,
)
from clearway.funding.entrypoints.topup_schemas import TopupCreate, TopupOut
from clearway.funding.service.topup_ports import LedgerRefused, LedgerUnavailable
from clearway.funding.service.topups import TopupRequest, TopupService
from clearway.platform.auth import OPERATOR, SERVICE, Principal, require_roles
from clearway.platform.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    NotFound,
    ProblemError,
    Unauthorized,
)
from clearway.platform.idempotency import require_idempotency_key
from clearway.providers.mobile_money import DARAJA_CALLBACK_ACK, CallbackInvalid, CallbackRejected

ROUTE_PREFIX = "/api/v1/payments/top-ups"
CALLBACK_PATH = "/callbacks/{provider}/{callback_token}"
CALLBACK_BODY_BYTES_MAX = 64 * 1024
DEFAULT_WORKSPACE_ID = "default"
# Who may start a top-up for a wallet (the wallet app's backend, an operator); everyone may read.
STARTERS = (OPERATOR, SERVICE)
READERS = ("read_only", "operator", "approver", "processor", "service")

router = APIRouter(prefix=ROUTE_PREFIX, tags=["top-ups"])


def get_topup_service(request: Request) -> TopupService:
    service: TopupService = request.app.state.topups
    return service


TopupServiceDep = Annotated[TopupService, Depends(get_topup_service)]
Starter = Annotated[Principal, Depends(require_roles(*STARTERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]
IdempotencyKey = Annotated[str, Depends(require_idempotency_key)]


def workspace_of(principal: Principal) -> str:
    return principal.workspace_id or DEFAULT_WORKSPACE_ID


def as_problem(error: Exception) -> ProblemError:
    if isinstance(error, TopupNotFound | UnknownCheckout):
        return NotFound(error.message, code=error.code)
    if isinstance(error, ProviderReferenceConflict):
        return ProblemError(error.message, status=502, code=error.code)
    if isinstance(error, ConflictingOutcome):
        return Conflict(error.message, code=error.code)
    if isinstance(error, TopupRefused | IdempotencyKeyReused):
        return BusinessRuleViolation(error.message, code=error.code)
    if isinstance(error, CallbackRejected):
        return Unauthorized("The callback token is not valid.", code=error.code)
    if isinstance(error, CallbackInvalid):
        return BadRequest(error.message, code=error.code)
    if isinstance(error, LedgerUnavailable):
        return ProblemError("The ledger is unavailable; retry later.", status=503, code="LEDGER_UNAVAILABLE")
    if isinstance(error, LedgerRefused):
        return ProblemError("The ledger refused the posting.", status=502, code="LEDGER_REFUSED")
    raise error


HANDLED_ERRORS = (TopupError, CallbackRejected, CallbackInvalid, LedgerUnavailable, LedgerRefused)


@router.post("", status_code=status.HTTP_201_CREATED)
async def start_topup(
    body: TopupCreate, principal: Starter, key: IdempotencyKey, topups: TopupServiceDep, response: Response
) -> TopupOut:
    """Prompt the phone to pay; the answer arrives later (poll `GET .../{id}` or consume `topup.*`)."""
    workspace_id = workspace_of(principal)
    request = TopupRequest(
        workspace_id=workspace_id,
        identity_id=body.identity_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        phone_number=body.phone_number,
        idempotency_key=key,
    )
    try:
        result = await topups.start(request)
    except HANDLED_ERRORS as error:
        raise as_problem(error) from error
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return TopupOut.from_domain(result.topup)


@router.get("/{topup_id}")
async def get_topup(topup_id: str, principal: Reader, topups: TopupServiceDep) -> TopupOut:
    try:
        topup = await topups.get(topup_id, workspace_id=workspace_of(principal))
    except HANDLED_ERRORS as error:
        raise as_problem(error) from error
    return TopupOut.from_domain(topup)


@router.post(CALLBACK_PATH, include_in_schema=False)
async def provider_callback(provider: str, callback_token: str, request: Request, topups: TopupServiceDep) -> Any:
    """The provider's answer. 200 with Daraja's ack once recorded (or when it changes nothing)."""
    if provider != topups.provider.name:
        raise NotFound("No such callback.", code="CALLBACK_PROVIDER_UNKNOWN")
    declared_bytes = request.headers.get("content-length")
    if declared_bytes is not None and declared_bytes.isdigit() and int(declared_bytes) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    body = await request.body()
    if len(body) > CALLBACK_BODY_BYTES_MAX:
        raise BadRequest("The callback body is too large.", code="CALLBACK_TOO_LARGE")
    try:
        await topups.handle_callback(callback_token, body, dict(request.headers))
    except HANDLED_ERRORS as error:
        raise as_problem(error) from error
    return JSONResponse(DARAJA_CALLBACK_ACK)


# The callback token is a credential in a URL path; these loggers write request paths.
_REDACTED_LOGGERS = (
    "clearway.http.access",
    "clearway.http.error",
    "clearway.platform.errors",
    "uvicorn.access",
    "httpx",  # logs each request's URL: the sandbox POSTs its callbacks through httpx
)
_CALLBACK_TOKEN_IN_PATH = re.compile(rf"({re.escape(ROUTE_PREFIX)}/callbacks/[^/\s?]+/)[^/\s?\"']+")
REDACTED = "[REDACTED]"


def redact_callback_tokens(text: str) -> str:
    return _CALLBACK_TOKEN_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


class CallbackTokenRedactor(logging.Filter):
    """Replaces the callback token in any logged path or message by `[REDACTED]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        for attribute in ("path", "url", "instance"):
            value = getattr(record, attribute, None)
            if isinstance(value, str):
                setattr(record, attribute, redact_callback_tokens(value))
        if isinstance(record.msg, str):
            record.msg = redact_callback_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(arg) for arg in record.args)
        return True


def _redacted_arg(arg: object) -> object:
    """Strings and URL objects (httpx logs `httpx.URL`) are redacted; other values pass unchanged."""
    if isinstance(arg, str | bytes | int | float | bool) or arg is None:
        return redact_callback_tokens(arg) if isinstance(arg, str) else arg
    text = str(arg)
    redacted = redact_callback_tokens(text)
    return redacted if redacted != text else arg


def install_callback_log_redaction() -> None:
    """Idempotent: safe to call for every app built in one process."""
    for name in _REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(existing, CallbackTokenRedactor) for existing in target.filters):
            target.addFilter(CallbackTokenRedactor())
