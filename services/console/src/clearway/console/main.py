"""The only wiring: settings -> services API client -> session store -> app.

The console has no database, no broker and no migrations (`clearway.devstack` starts it without
them): every page is rendered from the other services' HTTP APIs, called with the signed-in
operator's own key, so each service still enforces its roles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.config import ConsoleSettings
from clearway.console.entrypoints import (
    http_cards,
    http_dead_letters,
    http_funding,
    http_ledger,
    http_overview,
    http_payout,
    http_payout_batches,
    http_recon_reports,
    http_reconciliation,
    http_session,
)
from clearway.console.entrypoints.errors import install_console_error_handlers
from clearway.console.entrypoints.security_headers import SecurityHeadersMiddleware
from clearway.console.sessions import SessionStore
from clearway.platform.auth import whoami_router
from clearway.platform.http import create_http_app
from clearway.platform.logging import configure_logging

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(
    settings: ConsoleSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` lets a test answer for the services in-process (unit tests of rendering only)."""
    settings = settings or ConsoleSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    client = httpx.AsyncClient(timeout=settings.request_timeout_ms / 1000, transport=transport)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    app = create_http_app(
        settings=settings,
        title="Clearway Operator Console",
        version="0.1.0",
        routers=[
            http_session.router,
            http_overview.router,
            http_payout.router,
            http_payout_batches.router,
            http_reconciliation.router,
            http_recon_reports.router,
            http_ledger.router,
            http_funding.router,
            http_cards.router,
            http_dead_letters.router,
            whoami_router(),
        ],
        lifespan=lifespan,
    )
    app.state.services_api = ServicesApi(settings.service_urls(), client)
    app.state.sessions = SessionStore(
        idle_timeout_s=settings.session_idle_timeout_s, sessions_max=settings.sessions_max
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_console_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
