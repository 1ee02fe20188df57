"""Authorization's own exceptions and the ledger's failures as RFC 9457 problems, installed once."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clearway.authorization.domain.errors import AuthorizationError
from clearway.platform.errors import RESERVED_PROBLEM_FIELDS, ProblemError, response_for_problem
from clearway.platform.ledger import LedgerAnswerInvalidError, LedgerRefusedError, LedgerUnavailableError


def install_authorization_error_handlers(app: FastAPI) -> None:
    async def authorization_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthorizationError)
        extra = {key: value for key, value in exc.extra.items() if key not in RESERVED_PROBLEM_FIELDS}
        retry_after_s = getattr(exc, "retry_after_s", None)
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
        problem = ProblemError(exc.detail, status=exc.http_status, code=exc.error_code, extra=extra, headers=headers)
        return response_for_problem(problem, request.url.path)

    async def ledger_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # A pending authorization is finished by a retry with the same processor id, or by recovery.
        problem = ProblemError(
            "The ledger is not answering; try again shortly with the same request.",
            status=503,
            code="LEDGER_UNAVAILABLE",
            headers={"Retry-After": "2"},
        )
        return response_for_problem(problem, request.url.path)

    async def ledger_refused(request: Request, exc: Exception) -> JSONResponse:
        problem = ProblemError("The ledger refused what authorization asked.", status=502, code="LEDGER_REFUSED")
        return response_for_problem(problem, request.url.path)

    app.add_exception_handler(AuthorizationError, authorization_error)
    app.add_exception_handler(LedgerUnavailableError, ledger_unavailable)
    app.add_exception_handler(LedgerRefusedError, ledger_refused)
    app.add_exception_handler(LedgerAnswerInvalidError, ledger_refused)
