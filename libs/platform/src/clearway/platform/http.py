"""The HTTP app factory every service uses, so they share errors, auth, probes and telemetry.

    app = create_http_app(settings=settings, title="payout", version="0.1.0",
                          routers=[withdrawals.router], lifespan=lifespan)

The lifespan owns connections (nothing connects at import time). It sets `app.state.engine`
(or `app.state.session_factory`), which `Idempotency-Key` handling uses, and may add checks
it builds there: `app.state.readiness_checks["database"] = database_check(engine)`.

Middleware, outermost first: request context (correlation ids, access log, last-resort 500)
-> Prometheus metrics -> admission (503 when at capacity, 429 over a key's rate) -> the JSON body
guard (NUL, size) -> idempotency -> FastAPI's exception handlers -> routes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearway.contracts.asyncapi import build_asyncapi
from clearway.contracts.catalogue import SERVICES
from clearway.platform.admission import AdmissionMiddleware
from clearway.platform.auth import Authenticator
from clearway.platform.body_guard import RequestBodyGuardMiddleware
from clearway.platform.context import causation_id_var, correlation_id_var
from clearway.platform.errors import (
    document_problem_responses,
    install_error_handlers,
    internal_error_response,
    unavailable_response,
)
from clearway.platform.failures import OutageLog, failed_dependency, is_infrastructure_failure
from clearway.platform.health import ReadinessCheck, health_router
from clearway.platform.idempotency import IdempotencyMiddleware
from clearway.platform.ids import new_id
from clearway.platform.invariants import require_assertions_enabled
from clearway.platform.metrics import PrometheusMiddleware, metrics_endpoint, route_template
from clearway.platform.openapi_security import document_authentication
from clearway.platform.settings import ServiceSettings

CORRELATION_ID_HEADER = "X-Correlation-Id"
REQUEST_ID_HEADER = "X-Request-Id"
CONTEXT_ID_LENGTH_MAX = 128
# Probes and scrapes arrive every few seconds; logging them at INFO drowns real traffic.
QUIET_PATH_PREFIXES = ("/health/", "/metrics")

access_logger = logging.getLogger("clearway.http.access")
error_logger = logging.getLogger("clearway.http.error")

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def _usable_context_id(value: str | None) -> str | None:
    if value and len(value) <= CONTEXT_ID_LENGTH_MAX and value.isascii() and value.isprintable():
        return value
    return None


class RequestContextMiddleware:
    """Sets correlation/causation ids for the request, echoes them, and logs one access line.

    It also turns an unhandled exception into a problem+json 500 here (rather than in
    Starlette's outermost error middleware) so that response still carries the ids and the
    traceback is logged with the request's correlation id. A database or network outage is not
    a bug: it answers 503 with `Retry-After`, and the outage is logged once, not per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.outages = OutageLog(error_logger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _usable_context_id(headers.get(REQUEST_ID_HEADER)) or new_id("req")
        correlation_id = _usable_context_id(headers.get(CORRELATION_ID_HEADER)) or request_id
        correlation_token = correlation_id_var.set(correlation_id)
        causation_token = causation_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_ids(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                response_headers = MutableHeaders(scope=message)
                response_headers[CORRELATION_ID_HEADER] = correlation_id
                response_headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
            if status < 500 and not scope["path"].startswith(QUIET_PATH_PREFIXES):
                self.outages.succeeded()
        except Exception as error:
            if is_infrastructure_failure(error):
                dependency = failed_dependency(error)
                self.outages.failed(dependency, error)
                if response_started:
                    raise
                await unavailable_response(scope["path"], dependency)(scope, receive, send_with_ids)
                return
            error_logger.exception("unhandled error", extra={"method": scope["method"], "path": scope["path"]})
            if response_started:
                raise
            await internal_error_response(scope["path"])(scope, receive, send_with_ids)
        finally:
            self._log_access(scope, status, time.perf_counter() - started)
            causation_id_var.reset(causation_token)
            correlation_id_var.reset(correlation_token)

    @staticmethod
    def _log_access(scope: Scope, status: int, duration_s: float) -> None:
        path: str = scope["path"]
        level = logging.DEBUG if path.startswith(QUIET_PATH_PREFIXES) and status < 500 else logging.INFO
        access_logger.log(
            level,
            "http request",
            extra={
                "method": scope["method"],
                "path": path,
                "route": route_template(scope),
                "status": status,
                "duration_ms": round(duration_s * 1000, 3),
            },
        )


def asyncapi_endpoint(service_name: str, version: str) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The service's topics as an AsyncAPI 3.0 document, built from the contracts catalogue."""
    document = build_asyncapi(service_name, version)

    async def asyncapi() -> dict[str, Any]:
        return document

    return asyncapi


def create_http_app(
    *,
    settings: ServiceSettings,
    title: str,
    version: str,
    routers: Sequence[APIRouter] = (),
    lifespan: Lifespan | None = None,
    readiness_checks: Mapping[str, ReadinessCheck] | None = None,
) -> FastAPI:
    # Every service's app is built here, so this is where a service refuses to run without asserts.
    require_assertions_enabled()
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator.from_settings(settings)
    # The same verifier the authenticator uses (None: this service accepts no user tokens).
    app.state.user_token_verifier = app.state.authenticator.user_tokens
    app.state.readiness_checks = dict(readiness_checks or {})
    install_error_handlers(app)
    app.include_router(health_router())
    app.add_route("/metrics", metrics_endpoint(), methods=["GET"], include_in_schema=False)
    if settings.service_name in SERVICES:
        app.add_api_route(
            "/asyncapi.json", asyncapi_endpoint(settings.service_name, version), methods=["GET"], tags=["health"]
        )
    for router in routers:
        app.include_router(router)
    document_problem_responses(app, skip_prefixes=("/health/", "/asyncapi.json"))
    document_authentication(app)
    # Each add_middleware wraps everything added before it: the last one added runs first.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestBodyGuardMiddleware)
    app.add_middleware(
        AdmissionMiddleware,
        authenticator=app.state.authenticator,
        inflight_max=settings.http_inflight_max,
        rate_limit_per_key_per_s=settings.rate_limit_per_key_per_s,
    )
    app.add_middleware(PrometheusMiddleware)
    app.add_middleware(RequestContextMiddleware)
    return app
