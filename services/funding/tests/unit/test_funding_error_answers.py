"""One error family, mapped once: every top-up error answers the problem+json it always has
(status, stable code, title and detail), through the same handler as the rest of funding."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from clearway.funding.domain.errors import FundingError, IdempotencyKeyReusedError
from clearway.funding.domain.topup_errors import (
    CallbackInvalidError,
    CallbackRejectedError,
    ConflictingOutcomeError,
    ProviderReferenceConflictError,
    TopupLedgerRefusedError,
    TopupLedgerUnavailableError,
    TopupNotFoundError,
    TopupRefusedError,
    UnknownCheckoutError,
)
from clearway.funding.entrypoints.errors import install_funding_error_handlers
from clearway.funding.service.ports import LedgerRefusedError, LedgerUnavailableError
from clearway.funding.service.topups import (
    CALLBACK_REJECTED_DETAIL,
    LEDGER_REFUSED_DETAIL,
    LEDGER_UNAVAILABLE_DETAIL,
)
from clearway.platform.errors import status_title

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "instance"}

# (the error raised, status, code, detail) as the top-up routes answered before the move.
ANSWERS: list[tuple[Exception, int, str, str]] = [
    (TopupRefusedError("nope"), 422, "TOPUP_REFUSED", "nope"),
    (
        TopupRefusedError("USD top-ups are not supported", code="CURRENCY_NOT_SUPPORTED"),
        422,
        "CURRENCY_NOT_SUPPORTED",
        "USD top-ups are not supported",
    ),
    (
        TopupRefusedError("The ledger has no identity idt_x.", code="WALLET_OWNER_UNKNOWN"),
        422,
        "WALLET_OWNER_UNKNOWN",
        "The ledger has no identity idt_x.",
    ),
    (IdempotencyKeyReusedError("other body"), 422, "IDEMPOTENCY_KEY_REUSED", "other body"),
    (TopupNotFoundError("No top-up top_1."), 404, "TOPUP_NOT_FOUND", "No top-up top_1."),
    (UnknownCheckoutError("No top-up with ..."), 404, "TOPUP_CHECKOUT_UNKNOWN", "No top-up with ..."),
    (ConflictingOutcomeError("already"), 409, "TOPUP_OUTCOME_CONFLICT", "already"),
    (ProviderReferenceConflictError("held"), 502, "PROVIDER_REFERENCE_CONFLICT", "held"),
    (
        CallbackRejectedError(CALLBACK_REJECTED_DETAIL),
        401,
        "CALLBACK_REJECTED",
        "The callback token is not valid.",
    ),
    (CallbackInvalidError("callback body is too large"), 400, "CALLBACK_INVALID", "callback body is too large"),
    (
        TopupLedgerUnavailableError(LEDGER_UNAVAILABLE_DETAIL),
        503,
        "LEDGER_UNAVAILABLE",
        "The ledger is unavailable; retry later.",
    ),
    (
        TopupLedgerRefusedError(LEDGER_REFUSED_DETAIL),
        502,
        "LEDGER_REFUSED",
        "The ledger refused the posting.",
    ),
    # The other subdomains' ledger failures keep their own answers.
    (
        LedgerUnavailableError("GET /: 503"),
        503,
        "LEDGER_UNAVAILABLE",
        "The ledger is not answering; try again shortly.",
    ),
    (LedgerRefusedError(409, "X", "y"), 502, "LEDGER_REFUSED", "The ledger refused the posting."),
]


@pytest_asyncio.fixture
async def raising_app() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_funding_error_handlers(app)

    @app.get("/raise/{number}")
    async def raise_error(number: int) -> None:
        raise ANSWERS[number][0]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://funding") as client:
        yield client


@pytest.mark.parametrize("number", range(len(ANSWERS)), ids=[type(answer[0]).__name__ for answer in ANSWERS])
async def test_each_error_answers_as_it_always_has(raising_app: httpx.AsyncClient, number: int) -> None:
    _error, status, code, detail = ANSWERS[number]
    response = await raising_app.get(f"/raise/{number}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == PROBLEM_FIELDS
    assert (body["status"], body["code"], body["detail"]) == (status, code, detail)
    assert body["title"] == status_title(status)
    assert body["type"] == f"https://clearway.dev/problems/{code.lower().replace('_', '-')}"
    assert body["instance"] == f"/raise/{number}"


def test_every_top_up_error_is_a_funding_error() -> None:
    top_up_errors = [
        error for error, *_answer in ANSWERS if not isinstance(error, LedgerRefusedError | LedgerUnavailableError)
    ]
    assert all(isinstance(error, FundingError) for error in top_up_errors)
