"""The funding service's only wiring: settings into one context, then the runtime and its
consumers, the periodic tasks, the routers and the error handlers. Nothing connects at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import Depends, FastAPI

from clearway.contracts.catalogue import topics_for_service
from clearway.funding.adapters import mobile_money
from clearway.funding.adapters.invoice_delivery import EventOnlyDelivery, SmtpConfig, SmtpDelivery
from clearway.funding.adapters.invoice_pdf import render_invoice_pdf
from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.config import FundingSettings
from clearway.funding.domain.invoices import InvoiceTerms
from clearway.funding.domain.topups import TopupPolicy
from clearway.funding.entrypoints import consumers, http_deposits, http_fundings, http_payables, http_topups
from clearway.funding.entrypoints.errors import install_funding_error_handlers
from clearway.funding.service import linking, recovery, topup_resolution
from clearway.funding.service.context import FundingContext
from clearway.funding.service.ports import InvoiceDelivery
from clearway.platform.auth import OPERATOR, require_roles
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.http import create_http_app
from clearway.platform.ledger import HttpLedgerClient
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.periodic import PeriodicTask
from clearway.platform.runtime import ServiceRuntime, service_command_line
from clearway.providers.mobile_money import MobileMoneyProvider, SandboxProvider, sandbox_control_router

SERVICE_NAME = "funding"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
# Sandbox callbacks reach this app in-process; the host name only labels them.
SANDBOX_CALLBACK_BASE_URL = "http://funding.internal"
SANDBOX_CALLBACK_TIMEOUT_S = 30.0
TOPUP_TASK_STOP_TIMEOUT_MS = 5_000


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


def invoice_terms(settings: FundingSettings) -> InvoiceTerms:
    return InvoiceTerms(
        issuer_name=settings.invoice_issuer_name,
        bank_name=settings.invoice_bank_name,
        account_name=settings.invoice_account_name,
        account_number=settings.invoice_account_number,
        due_days=settings.invoice_due_days,
        expiry_grace_days=settings.invoice_expiry_grace_days,
        send_attempts_max=settings.invoice_send_attempts_max,
    )


def invoice_delivery(settings: FundingSettings) -> InvoiceDelivery:
    if not settings.smtp_host:
        return EventOnlyDelivery()
    return SmtpDelivery(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_ms=settings.smtp_timeout_ms,
        )
    )


def topup_policy(settings: FundingSettings) -> TopupPolicy:
    return TopupPolicy(
        status_query_after_ms=settings.topup_status_query_after_ms,
        status_query_interval_ms=settings.topup_status_query_interval_ms,
        status_queries_max=settings.topup_status_queries_max,
        default_currency=settings.topup_currency_default,
        currencies=frozenset(settings.topup_currencies),
    )


def periodic_tasks(
    settings: FundingSettings, context: FundingContext, sandbox: SandboxProvider | None
) -> list[PeriodicTask]:
    """The background work, each a bounded pass on an interval: recovery (which also resumes what a
    previous process left open), the top-up resolver, and the sandbox customer's callbacks."""
    tasks: list[PeriodicTask] = []
    if settings.recovery_enabled:
        tasks.append(
            PeriodicTask("funding-recovery", settings.recovery_interval_ms, lambda: recovery.recover_once(context))
        )
    if settings.topup_resolver_enabled:
        batch_size_max = settings.topup_resolver_batch_size_max
        tasks.append(
            PeriodicTask(
                "topup-resolver",
                settings.topup_resolver_interval_ms,
                lambda: topup_resolution.resolve_due(context, batch_size_max),
                stop_timeout_ms=TOPUP_TASK_STOP_TIMEOUT_MS,
            )
        )
    if sandbox is not None and settings.topup_sandbox_delivery_loop:
        tasks.append(
            PeriodicTask(
                "topup-sandbox-callbacks",
                settings.topup_sandbox_poll_interval_ms,
                sandbox.deliver_due,
                stop_timeout_ms=TOPUP_TASK_STOP_TIMEOUT_MS,
            )
        )
    return tasks


def create_app(
    settings: FundingSettings | None = None,
    *,
    ledger_transport: httpx.AsyncBaseTransport | None = None,
    delivery: InvoiceDelivery | None = None,
    topup_provider: MobileMoneyProvider | None = None,
) -> FastAPI:
    """`ledger_transport` lets tests run the ledger in-process (httpx.ASGITransport);
    `topup_provider` lets them steer a mobile-money sandbox of their own (built with the
    settings' `mobile_money_callback_token`)."""
    settings = settings or FundingSettings()
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
    callback_token = mobile_money.sandbox_callback_token(settings)
    provider = topup_provider or mobile_money.build_provider(settings, sandbox_callback_token=callback_token)
    sandbox = provider if isinstance(provider, SandboxProvider) else None
    context = FundingContext(
        unit_of_work=lambda: SqlFundingUnitOfWork(runtime.session_factory),
        ledger=ledger,
        delivery=delivery or invoice_delivery(settings),
        render_invoice=render_invoice_pdf,
        terms=invoice_terms(settings),
        public_url=settings.public_url,
        auto_link_deposits_default=settings.auto_link_deposits_default,
        batch_size_max=settings.recovery_batch_size_max,
        mobile_money=provider,
        topup_policy=topup_policy(settings),
    )

    # A funding a consumer linked (automatically by reference, or as reconciliation matched it) goes
    # through its ledger steps once the link has committed.
    async def complete_auto_link(funding_id: str) -> object:
        return await linking.advance_funding(context, funding_id)

    # Every group in one list: `funding.transfers`, `funding.payouts`, `funding.reconciliations`.
    for topic, group_id, handler in consumers.subscriptions(
        context.unit_of_work, complete_auto_link, clock=context.clock
    ):
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
            path = http_topups.callback_path(sandbox.name, callback_token)
            sandbox.set_deliver(mobile_money.sandbox_callback_delivery(callbacks, path))
        for task in tasks:
            task.start()
        try:
            yield
        finally:
            for task in reversed(tasks):
                await task.stop()
            if callbacks is not None:
                await callbacks.aclose()
            if topup_provider is None:  # a provider a test passed in is the test's to close
                await mobile_money.close_provider(provider)
            await runtime.stop()
            await ledger.aclose()

    routers = [http_deposits.router, http_payables.router, http_fundings.router, http_topups.router]
    routers.append(dead_letters_router())
    if sandbox is not None:
        routers.append(sandbox_control_router(sandbox, dependencies=[Depends(require_roles(OPERATOR))]))
    app = create_http_app(
        settings=settings,
        title="Clearway Funding",
        version="0.1.0",
        routers=routers,
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    # Readable before the lifespan runs; `runtime.install` adds the engine and the owner lease.
    app.state.runtime = runtime
    app.state.funding_context = context
    install_funding_error_handlers(app)
    http_topups.install_callback_log_redaction()  # callback tokens are credentials in URL paths
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=FundingSettings,
        app_factory_path="clearway.funding.main:create_app",
    )
