"""The payout service's only wiring: settings into one context, then the runtime and its
consumers, the periodic tasks, the routers and the error handlers. Nothing connects at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import Depends, FastAPI

from clearway.contracts.catalogue import topics_for_service
from clearway.payout.adapters import mobile_money
from clearway.payout.adapters.unit_of_work import SqlPayoutUnitOfWork
from clearway.payout.config import PayoutSettings
from clearway.payout.entrypoints import (
    consumers,
    http_admin,
    http_callbacks,
    http_withdrawal_methods,
    http_withdrawals,
)
from clearway.payout.entrypoints.errors import install_payout_error_handlers
from clearway.payout.service import recovery
from clearway.payout.service.context import PayoutContext, PayoutPolicy
from clearway.platform.auth import OPERATOR, require_roles
from clearway.platform.callback_redaction import install_callback_log_redaction
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.http import create_http_app
from clearway.platform.ledger import HttpLedgerClient
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.periodic import PeriodicTask
from clearway.platform.runtime import ServiceRuntime, service_command_line
from clearway.providers.bank import Debtor
from clearway.providers.mobile_money import MobileMoneyPayoutProvider, SandboxProvider, sandbox_control_router

SERVICE_NAME = "payout"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
# Sandbox callbacks reach this app in-process; the host name only labels them.
SANDBOX_CALLBACK_BASE_URL = "http://payout.internal"
SANDBOX_CALLBACK_TIMEOUT_S = 30.0
TASK_STOP_TIMEOUT_MS = 5_000


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


def payout_policy(settings: PayoutSettings) -> PayoutPolicy:
    return PayoutPolicy(
        reservation_grace_ms=settings.reservation_grace_ms,
        submission_grace_ms=settings.submission_grace_ms,
        status_query_after_ms=settings.status_query_after_ms,
        status_query_interval_ms=settings.status_query_interval_ms,
        status_queries_max=settings.status_queries_max,
        batch_size_max=settings.recovery_batch_size_max,
    )


def periodic_tasks(
    settings: PayoutSettings, context: PayoutContext, sandbox: SandboxProvider | None
) -> list[PeriodicTask]:
    tasks: list[PeriodicTask] = []
    if settings.recovery_enabled:
        tasks.append(
            PeriodicTask(
                "payout-recovery",
                settings.recovery_interval_ms,
                lambda: recovery.recover_once(context),
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    if sandbox is not None and settings.sandbox_delivery_loop:
        tasks.append(
            PeriodicTask(
                "payout-sandbox-callbacks",
                settings.sandbox_poll_interval_ms,
                sandbox.deliver_due,
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    return tasks


def create_app(
    settings: PayoutSettings | None = None,
    *,
    ledger_transport: httpx.AsyncBaseTransport | None = None,
    payout_provider: MobileMoneyPayoutProvider | None = None,
) -> FastAPI:
    """`ledger_transport` lets tests run the ledger in-process; `payout_provider` lets them steer a
    sandbox of their own (built with the settings' `mobile_money_callback_token`)."""
    settings = settings or PayoutSettings()
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
    token = mobile_money.callback_token(settings)
    provider = payout_provider or mobile_money.build_provider(settings, token=token)
    sandbox = provider if isinstance(provider, SandboxProvider) else None
    context = PayoutContext(
        unit_of_work=lambda: SqlPayoutUnitOfWork(runtime.session_factory),
        ledger=ledger,
        mobile_money=provider,
        bank_debtor=Debtor(
            name=settings.bank_debtor_name, iban=settings.bank_debtor_iban, bic=settings.bank_debtor_bic
        ),
        policy=payout_policy(settings),
    )
    for topic, group_id, handler in consumers.subscriptions(context):
        runtime.subscribe(topic, group_id, handler)
    tasks = periodic_tasks(settings, context, sandbox)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.install(app)  # engine, session factory and owner lease for Idempotency-Key
        await runtime.start()
        callbacks: httpx.AsyncClient | None = None
        if sandbox is not None:
            callbacks = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=SANDBOX_CALLBACK_BASE_URL,
                timeout=SANDBOX_CALLBACK_TIMEOUT_S,
            )
            sandbox.set_b2c_deliver(
                mobile_money.sandbox_delivery(callbacks, http_callbacks.result_path(sandbox.name, token)),
                mobile_money.sandbox_delivery(callbacks, http_callbacks.timeout_path(sandbox.name, token)),
            )
        for task in tasks:
            task.start()
        try:
            yield
        finally:
            for task in reversed(tasks):
                await task.stop()
            if callbacks is not None:
                await callbacks.aclose()
            if payout_provider is None:  # a provider a test passed in is the test's to close
                await mobile_money.close_provider(provider)
            await runtime.stop()
            await ledger.aclose()

    routers = [http_withdrawal_methods.router, http_withdrawals.router, http_admin.router, http_callbacks.router]
    routers.append(dead_letters_router())
    if sandbox is not None:
        routers.append(sandbox_control_router(sandbox, dependencies=[Depends(require_roles(OPERATOR))]))
    app = create_http_app(
        settings=settings,
        title="Clearway Payout",
        version="0.1.0",
        routers=routers,
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    # Readable before the lifespan runs; `runtime.install` adds the engine and the owner lease.
    app.state.runtime = runtime
    app.state.payout_context = context
    install_payout_error_handlers(app, business_error_status=settings.business_error_status)
    install_callback_log_redaction(http_callbacks.ROUTE_PREFIX)
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=PayoutSettings,
        app_factory_path="clearway.payout.main:create_app",
    )
