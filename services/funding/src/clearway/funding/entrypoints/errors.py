"""Funding's own exceptions as RFC 9457 problems."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clearway.funding.domain.errors import FundingError
from clearway.funding.service.linking import LedgerPostingRejectedError
from clearway.funding.service.ports import LedgerRefusedError, LedgerUnavailableError
from clearway.platform.errors import RESERVED_PROBLEM_FIELDS, ProblemError, response_for_problem


async def _funding_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FundingError)
    extra = {key: value for key, value in exc.extra.items() if key not in RESERVED_PROBLEM_FIELDS}
    problem = ProblemError(exc.detail, status=exc.http_status, code=exc.error_code, extra=extra)
    return response_for_problem(problem, request.url.path)


async def _ledger_unavailable(request: Request, exc: Exception) -> JSONResponse:
    problem = ProblemError("The ledger is not answering; try again shortly.", status=503, code="LEDGER_UNAVAILABLE")
    return response_for_problem(problem, request.url.path)


async def _ledger_refused(request: Request, exc: Exception) -> JSONResponse:
    # The ledger refusing what funding asked is funding's problem to explain, not the client's.
    problem = ProblemError("The ledger refused the posting.", status=502, code="LEDGER_REFUSED")
    return response_for_problem(problem, request.url.path)


def install_funding_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FundingError, _funding_error)
    app.add_exception_handler(LedgerUnavailableError, _ledger_unavailable)
    app.add_exception_handler(LedgerRefusedError, _ledger_refused)
    app.add_exception_handler(LedgerPostingRejectedError, _ledger_refused)
