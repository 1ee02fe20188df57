from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from clearway.platform.errors import (
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    problem_type_url,
    status_title,
)
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings

router = APIRouter()


class Transfer(BaseModel):
    amount_minor: int = Field(gt=0)
    api_secret: str


@router.post("/transfers")
async def create_transfer(transfer: Transfer) -> dict[str, int]:
    return {"amount_minor": transfer.amount_minor}


@router.get("/funds")
async def insufficient_funds() -> None:
    raise BusinessRuleViolation(
        "Balance bln_1 has 100 available.", code="INSUFFICIENT_FUNDS", extra={"available_minor": 100}
    )


@router.get("/gone")
async def starlette_error() -> None:
    raise HTTPException(status_code=409, detail="already settled")


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("password=hunter2 host=db.internal")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_http_app(settings=ServiceSettings(), title="t", version="0", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def test_subclasses_carry_status_and_default_code() -> None:
    expected = {
        BadRequest: (400, "BAD_REQUEST"),
        Unauthorized: (401, "UNAUTHENTICATED"),
        Forbidden: (403, "FORBIDDEN"),
        NotFound: (404, "NOT_FOUND"),
        Conflict: (409, "STATE_CONFLICT"),
        BusinessRuleViolation: (422, "BUSINESS_RULE_VIOLATION"),
    }
    for error_class, (status, code) in expected.items():
        error = error_class("detail")
        assert (error.status, error.code, error.detail) == (status, code, "detail")
    assert NotFound().title == "Not Found"


def test_problem_error_takes_explicit_status_and_code() -> None:
    error = ProblemError("slow down", status=429, code="RATE_LIMITED", extra={"retry_after_s": 3})
    assert (error.status, error.code, error.extra) == (429, "RATE_LIMITED", {"retry_after_s": 3})
    assert problem_type_url("IDEMPOTENCY_KEY_REUSED") == "https://clearway.dev/problems/idempotency-key-reused"


def test_extra_cannot_override_problem_fields() -> None:
    with pytest.raises(AssertionError):
        Conflict("x", extra={"status": 200})


async def test_problem_error_renders_rfc9457_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/funds")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json() == {
        "type": "https://clearway.dev/problems/insufficient-funds",
        "title": status_title(422),
        "status": 422,
        "detail": "Balance bln_1 has 100 available.",
        "code": "INSUFFICIENT_FUNDS",
        "instance": "/funds",
        "available_minor": 100,
    }


async def test_validation_error_is_400_with_field_paths_and_no_input_echo(client: httpx.AsyncClient) -> None:
    response = await client.post("/transfers", json={"amount_minor": "lots", "api_secret": 7})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert {error["field"] for error in body["errors"]} == {"body.amount_minor", "body.api_secret"}
    assert all(error["message"] for error in body["errors"])
    assert "lots" not in response.text


async def test_http_exceptions_and_unknown_routes_become_problems(client: httpx.AsyncClient) -> None:
    conflict = await client.get("/gone")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "STATE_CONFLICT"
    assert conflict.json()["detail"] == "already settled"
    missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert missing.json()["code"] == "NOT_FOUND"
    wrong_method = await client.delete("/funds")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_unhandled_error_is_opaque_500_with_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom", headers={"X-Correlation-Id": "corr-123"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "hunter2" not in response.text
    assert "db.internal" not in response.text
    assert response.headers["x-correlation-id"] == "corr-123"


async def test_request_ids_are_generated_and_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    request_id = response.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert response.headers["x-correlation-id"] == request_id
    traced = await client.get("/health/live", headers={"X-Request-Id": "abc"})
    assert traced.headers["x-correlation-id"] == "abc"


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/transfers" in schema["paths"]
    assert (await client.get("/docs")).status_code == 200
