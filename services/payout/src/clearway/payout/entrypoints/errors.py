"""Payout's own exceptions, the ledger's and the rail's failures as RFC 9457 problems.

Business refusals answer with the configured status (422, or seed 001's 430)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clearway.payout.domain.errors import PayoutError
from clearway.platform.errors import RESERVED_PROBLEM_FIELDS, ProblemError, response_for_problem
from clearway.platform.ledger import LedgerRefusedError, LedgerUnavailableError
from clearway.providers.mobile_money import CallbackInvalid, CallbackRejected


def install_payout_error_handlers(app: FastAPI, *, business_error_status: int) -> None:
    async def payout_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PayoutError)
        extra = {key: value for key, value in exc.extra.items() if key not in RESERVED_PROBLEM_FIELDS}
        status = business_error_status if exc.business else exc.http_status
        problem = ProblemError(exc.detail, status=status, code=exc.error_code, extra=extra)
        return response_for_problem(problem, request.url.path)

    async def ledger_unavailable(request: Request, exc: Exception) -> JSONResponse:
        problem = ProblemError(
            "The ledger is not answering; try again shortly.",
            status=503,
            code="LEDGER_UNAVAILABLE",
            headers={"Retry-After": "2"},
        )
        return response_for_problem(problem, request.url.path)

    async def ledger_refused(request: Request, exc: Exception) -> JSONResponse:
        # The ledger refusing what payout asked is payout's problem to explain, not the client's.
        problem = ProblemError("The ledger refused the posting.", status=502, code="LEDGER_REFUSED")
        return response_for_problem(problem, request.url.path)

    async def callback_rejected(request: Request, exc: Exception) -> JSONResponse:
        problem = ProblemError("The callback token is not valid.", status=401, code="CALLBACK_REJECTED")
        return response_for_problem(problem, "/callbacks")  # the path holds the token: never echoed

    async def callback_invalid(request: Request, exc: Exception) -> JSONResponse:
        problem = ProblemError("The callback body is not valid.", status=400, code="CALLBACK_INVALID")
        return response_for_problem(problem, "/callbacks")

    app.add_exception_handler(PayoutError, payout_error)
    app.add_exception_handler(LedgerUnavailableError, ledger_unavailable)
    app.add_exception_handler(LedgerRefusedError, ledger_refused)
    app.add_exception_handler(CallbackRejected, callback_rejected)
    app.add_exception_handler(CallbackInvalid, callback_invalid)
