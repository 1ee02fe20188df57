"""RFC 9457 problem details: typed errors that carry their HTTP status and a stable machine code.

Domain and service code raise `ProblemError` subclasses; the handlers installed by
`install_error_handlers` turn them (and FastAPI's own errors) into `application/problem+json`
bodies, so every service answers errors in one shape that clients can branch on by `code`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE_URL = "https://clearway.dev/problems/"
# Keys the handlers own; `extra` may not overwrite them, or a client could be told the wrong status.
RESERVED_PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code", "instance"})
VALIDATION_ERRORS_MAX = 50

logger = logging.getLogger("clearway.platform.errors")


def problem_type_url(code: str) -> str:
    return PROBLEM_TYPE_BASE_URL + code.lower().replace("_", "-")


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def status_code_name(status: int) -> str:
    """`404` -> `NOT_FOUND`: the fallback machine code for errors raised without one."""
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "HTTP_ERROR"


class ProblemError(Exception):
    """An error a client should see. Subclasses fix `status` and a default `code`.

    `ProblemError("balance too low", status=422, code="INSUFFICIENT_FUNDS")`, or with a subclass
    `BusinessRuleViolation("balance too low", code="INSUFFICIENT_FUNDS", extra={"balance_id": ...})`.
    """

    default_status: ClassVar[int] = 500
    default_code: ClassVar[str] = "INTERNAL_ERROR"
    default_title: ClassVar[str | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        resolved_status = status if status is not None else self.default_status
        resolved_code = code if code is not None else self.default_code
        assert 400 <= resolved_status <= 599, f"problem status must be 4xx/5xx: {resolved_status}"
        assert resolved_code and resolved_code.isupper(), f"problem code must be UPPER_SNAKE: {resolved_code}"
        clashing = RESERVED_PROBLEM_FIELDS.intersection(extra or {})
        assert not clashing, f"extra may not override problem fields: {sorted(clashing)}"
        self.status: int = resolved_status
        self.code: str = resolved_code
        self.title: str = title or self.default_title or status_title(resolved_status)
        self.detail = detail
        self.extra: dict[str, Any] = dict(extra or {})
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(detail or self.title)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, detail={self.detail!r})"


class BadRequest(ProblemError):
    default_status = 400
    default_code = "BAD_REQUEST"


class Unauthorized(ProblemError):
    default_status = 401
    default_code = "UNAUTHENTICATED"


class Forbidden(ProblemError):
    default_status = 403
    default_code = "FORBIDDEN"


class NotFound(ProblemError):
    default_status = 404
    default_code = "NOT_FOUND"


class Conflict(ProblemError):
    default_status = 409
    default_code = "STATE_CONFLICT"


class BusinessRuleViolation(ProblemError):
    default_status = 422
    default_code = "BUSINESS_RULE_VIOLATION"


def problem_body(
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None,
    instance: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type_url(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    for name, value in (extra or {}).items():
        if name not in RESERVED_PROBLEM_FIELDS:
            body[name] = value
    return body


def problem_response(body: Mapping[str, Any], *, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(dict(body), status_code=status, headers=dict(headers or {}), media_type=PROBLEM_CONTENT_TYPE)


def response_for_problem(error: ProblemError, instance: str | None) -> JSONResponse:
    body = problem_body(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        instance=instance,
        extra=error.extra,
    )
    return problem_response(body, status=error.status, headers=error.headers)


def internal_error_response(instance: str | None) -> JSONResponse:
    # Deliberately generic: stack traces, SQL and hostnames stay in the logs.
    body = problem_body(
        status=500,
        code="INTERNAL_ERROR",
        title=status_title(500),
        detail="An unexpected error occurred.",
        instance=instance,
    )
    return problem_response(body, status=500)


UNAVAILABLE_CODES = {"database": "DATABASE_UNAVAILABLE", "http": "DEPENDENCY_UNAVAILABLE"}
UNAVAILABLE_RETRY_AFTER_S = 2


def unavailable_response(instance: str | None, dependency: str) -> JSONResponse:
    """503 for an outage of `dependency` (`database` or `http`): retry later with the same request.

    Nothing was changed because the unit of work commits last: a failure before the commit rolls
    back, and a commit that fails on a lost connection is reported as unknown by PostgreSQL, which
    is why every money path retries with the same reference (the retry finds the first effect).
    """
    body = problem_body(
        status=503,
        code=UNAVAILABLE_CODES.get(dependency, "DEPENDENCY_UNAVAILABLE"),
        title=status_title(503),
        detail=f"A {dependency} dependency of this service is unavailable; retry shortly with the same request.",
        instance=instance,
        extra={"dependency": dependency},
    )
    return problem_response(body, status=503, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)})


def validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Field paths and messages only: the offending `input` may be a secret, so it is dropped."""
    summary: list[dict[str, str]] = []
    for error in errors[:VALIDATION_ERRORS_MAX]:
        location = error.get("loc", ()) if isinstance(error, Mapping) else ()
        summary.append(
            {
                "field": ".".join(str(part) for part in location),
                "message": str(error.get("msg", "invalid value")) if isinstance(error, Mapping) else "invalid",
                "type": str(error.get("type", "value_error")) if isinstance(error, Mapping) else "value_error",
            }
        )
    return summary


async def handle_problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return response_for_problem(exc, request.url.path)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = problem_body(
        status=400,
        code="VALIDATION_FAILED",
        title="Request validation failed",
        detail="The request is malformed; see `errors`.",
        instance=request.url.path,
        extra={"errors": validation_errors(exc.errors())},
    )
    return problem_response(body, status=400)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else None
    body = problem_body(
        status=status,
        code=_http_exception_code(status),
        title=status_title(status),
        detail=detail,
        instance=request.url.path,
    )
    return problem_response(body, status=status, headers=exc.headers)


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return internal_error_response(request.url.path)


_HTTP_EXCEPTION_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "STATE_CONFLICT",
}


def _http_exception_code(status: int) -> str:
    return _HTTP_EXCEPTION_CODES.get(status) or status_code_name(status)


# The problem document as OpenAPI shows it (RFC 9457 members plus our `code`; services may add
# members, e.g. `errors` on a validation failure).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": ["string", "null"]},
        "code": {"type": "string"},
        "instance": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
# What any authenticated route may answer: a malformed request (400), no or a bad credential (401),
# a role that may not (403), a broken rule or a reused Idempotency-Key (422), over the key's rate
# (429, admission.py), an outage or the service at capacity (503).
COMMON_PROBLEM_STATUSES = (400, 401, 403, 422, 429, 503)
# Mutations also meet state conflicts and concurrent Idempotency-Keys (409) and the body limit (413).
MUTATION_PROBLEM_STATUSES = (409, 413)
MUTATION_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as `application/problem+json`."""
    return {
        status: {
            "description": status_title(status),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }


def document_problem_responses(app: FastAPI, *, skip_prefixes: Sequence[str] = ()) -> None:
    """Make the app's OpenAPI show the problems the handlers above answer on every operation, in
    place of FastAPI's own 422 `HTTPValidationError` (validation fails with a 400 problem here).
    An operation with a path parameter may also answer 404. What a route declares itself stays."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build_openapi()
            for path, operations in document.get("paths", {}).items():
                if path.startswith(tuple(skip_prefixes)):
                    continue
                for method, operation in operations.items():
                    _document_problems(path, method.upper(), operation.setdefault("responses", {}))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_problems(path: str, method: str, responses: dict[str, Any]) -> None:
    fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if str(fastapi_422.get("$ref", "")).endswith("/HTTPValidationError"):
        del responses["422"]
    statuses = list(COMMON_PROBLEM_STATUSES)
    if "{" in path:
        statuses.append(404)
    if method in MUTATION_METHODS:
        statuses += MUTATION_PROBLEM_STATUSES
    for status, response in problem_responses(*statuses).items():
        responses.setdefault(str(status), response)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, handle_problem_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected_error)
