"""The authorization service's only wiring: settings into one context, then the runtime and its
consumers, the recovery pass and the expiry job, the routers and the error handlers. Nothing connects at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from clearway.authorization.adapters.statement_pdf import render_statement_pdf
from clearway.authorization.adapters.unit_of_work import SqlAuthorizationUnitOfWork
from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain import billing as billing_jobs
from clearway.authorization.domain.authorizations import VelocityPolicy
from clearway.authorization.entrypoints import (
    consumers,
    http_authorizations,
    http_billing,
    http_card_accounts,
    http_clearings,
    http_jobs,
    http_statements,
)
from clearway.authorization.entrypoints.errors import install_authorization_error_handlers
from clearway.authorization.service import billing, expiry, recovery
from clearway.authorization.service.context import AuthorizationContext, AuthorizationPolicy
from clearway.contracts.catalogue import topics_for_service
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.http import create_http_app
from clearway.platform.ledger import HttpLedgerClient
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.periodic import PeriodicTask
from clearway.platform.runtime import ServiceRuntime, service_command_line

SERVICE_NAME = "authorization"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
TASK_STOP_TIMEOUT_MS = 5_000


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


def authorization_policy(settings: AuthorizationSettings) -> AuthorizationPolicy:
    return AuthorizationPolicy(
        recovery_grace_ms=settings.recovery_grace_ms,
        batch_size_max=settings.recovery_batch_size_max,
        velocity=VelocityPolicy(count_max=settings.velocity_count_max, window_ms=settings.velocity_window_ms),
        expiry_days=settings.authorization_expiry_days,
    )


def create_app(
    settings: AuthorizationSettings | None = None, *, ledger_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`ledger_transport` lets tests run the ledger in-process."""
    settings = settings or AuthorizationSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime(
        settings, topics=[(spec.name, spec.partitions) for spec in topics_for_service(SERVICE_NAME)]
    )
    ledger = HttpLedgerClient(
        settings.ledger_url,
        settings.ledger_api_key,
        timeout_ms=settings.ledger_timeout_ms,
        attempts_max=settings.ledger_attempts_max,
        transport=ledger_transport,
    )
    context = AuthorizationContext(
        unit_of_work=lambda: SqlAuthorizationUnitOfWork(runtime.session_factory),
        ledger=ledger,
        render_statement=render_statement_pdf,
        policy=authorization_policy(settings),
    )
    for topic, group_id, handler in consumers.subscriptions(context):
        runtime.subscribe(topic, group_id, handler)
    tasks: list[PeriodicTask] = []
    if settings.recovery_enabled:
        tasks.append(
            PeriodicTask(
                "authorization-recovery",
                settings.recovery_interval_ms,
                lambda: recovery.recover_once(context),
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    if settings.expiry_enabled:
        tasks.append(
            PeriodicTask(
                "authorization-expiry",
                settings.expiry_interval_ms,
                lambda: expiry.expire_authorizations(context, context.clock().date()),
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    if settings.billing_enabled:
        for job in billing_jobs.BILLING_JOBS:
            tasks.append(
                PeriodicTask(
                    f"authorization-{job}",
                    settings.billing_interval_ms,
                    billing.daily_run(context, job),
                    stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
                )
            )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.install(app)  # engine, session factory and owner lease for Idempotency-Key
        await runtime.start()
        for task in tasks:
            task.start()
        try:
            yield
        finally:
            for task in reversed(tasks):
                await task.stop()
            await runtime.stop()
            await ledger.aclose()

    app = create_http_app(
        settings=settings,
        title="Clearway Authorization",
        version="0.1.0",
        routers=[
            http_card_accounts.router,
            http_authorizations.router,
            http_clearings.router,
            http_jobs.router,
            http_billing.router,
            http_statements.router,
            dead_letters_router(),
        ],
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    # Readable before the lifespan runs; `runtime.install` adds the engine and the owner lease.
    app.state.runtime = runtime
    app.state.authorization_context = context
    install_authorization_error_handlers(app)
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=AuthorizationSettings,
        app_factory_path="clearway.authorization.main:create_app",
    )
