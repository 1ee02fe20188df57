"""Prometheus metrics for HTTP: request count and latency by method, route template and status.

Labels use the route *template* (`/withdrawals/{withdrawal_id}`), never the raw path, so the
number of time series stays bounded however many ids clients send.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "<unmatched>"

HTTP_REQUESTS_TOTAL = Counter(
    "clearway_http_requests_total",
    "HTTP requests handled, by method, route template and status code.",
    ("method", "route", "status"),
)
HTTP_REQUEST_DURATION_SECONDS = Histogram(
    "clearway_http_request_duration_seconds",
    "HTTP request latency in seconds, by method, route template and status code.",
    ("method", "route", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def route_template(scope: Scope) -> str:
    """The matched route's path template; only known after the router has run."""
    route = scope.get("route")
    path_format = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path_format if isinstance(path_format, str) else UNMATCHED_ROUTE


def observe_request(method: str, route: str, status: int, duration_s: float) -> None:
    labels = (method, route, str(status))
    HTTP_REQUESTS_TOTAL.labels(*labels).inc()
    HTTP_REQUEST_DURATION_SECONDS.labels(*labels).observe(duration_s)


class PrometheusMiddleware:
    """Counts every HTTP request, including ones that end in an unhandled error (as 500)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            observe_request(scope["method"], route_template(scope), status, time.perf_counter() - started)


def metrics_endpoint(registry: CollectorRegistry = REGISTRY) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
