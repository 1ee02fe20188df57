"""Reconciliation's own exceptions and the ledger port's failures as RFC 9457 problems."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clearway.platform.errors import RESERVED_PROBLEM_FIELDS, ProblemError, response_for_problem
from clearway.platform.ledger import LedgerRefusedError, LedgerUnavailableError
from clearway.reconciliation.domain.errors import ReconciliationError


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ReconciliationError)
    extra = {key: value for key, value in exc.extra.items() if key not in RESERVED_PROBLEM_FIELDS}
    problem = ProblemError(exc.detail, status=exc.http_status, code=exc.error_code, extra=extra)
    return response_for_problem(problem, request.url.path)


async def _ledger_unavailable(request: Request, exc: Exception) -> JSONResponse:
    problem = ProblemError(
        "The ledger is not answering; try again shortly.",
        status=503,
        code="LEDGER_UNAVAILABLE",
        headers={"Retry-After": "2"},
    )
    return response_for_problem(problem, request.url.path)


# The ledger judging the books (a balance condition, a conflict) is the caller's business error; any
# other refusal (401, 403, 404 of a path we built) is our misconfiguration towards it.
_BUSINESS_REFUSALS = frozenset({409, 422})


async def _ledger_refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerRefusedError)
    problem = ProblemError(
        f"The ledger refused the request: {exc.code}.",
        status=422 if exc.status in _BUSINESS_REFUSALS else 502,
        code="LEDGER_REFUSED",
        extra={"ledger_code": exc.code},
    )
    return response_for_problem(problem, request.url.path)


def install_reconciliation_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReconciliationError, _domain_error)
    app.add_exception_handler(LedgerUnavailableError, _ledger_unavailable)
    app.add_exception_handler(LedgerRefusedError, _ledger_refused)
