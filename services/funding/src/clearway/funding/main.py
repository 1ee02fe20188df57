"""The funding service's only wiring: runtime, ledger client, invoice delivery, consumers,
recovery loop and app. Nothing connects at import."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from clearway.contracts.catalogue import topics_for_service
from clearway.funding.adapters.invoice_delivery import EventOnlyDelivery, SmtpConfig, SmtpDelivery
from clearway.funding.adapters.invoice_pdf import render_invoice_pdf
from clearway.funding.adapters.ledger_client import HttpLedgerClient
from clearway.funding.adapters.unit_of_work import SqlFundingUnitOfWork
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints import consumers, http, http_fundings, http_payables
from clearway.funding.entrypoints.errors import install_funding_error_handlers
from clearway.funding.service import linking, workspaces
from clearway.funding.service.context import FundingContext, InvoiceTerms
from clearway.funding.service.ports import InvoiceDelivery
from clearway.funding.service.recovery import RecoveryLoop
from clearway.funding.topup_wiring import build_topups
from clearway.platform.http import create_http_app
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.runtime import ServiceRuntime, service_command_line
from clearway.providers.mobile_money import MobileMoneyProvider

SERVICE_NAME = "funding"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


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


def create_app(
    settings: FundingSettings | None = None,
    *,
    ledger_transport: httpx.AsyncBaseTransport | None = None,
    delivery: InvoiceDelivery | None = None,
    topup_provider: MobileMoneyProvider | None = None,
) -> FastAPI:
    """`ledger_transport` lets tests run the ledger in-process (httpx.ASGITransport);
    `topup_provider` lets them steer a mobile-money sandbox of their own."""
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
    context = FundingContext(
        unit_of_work=lambda: SqlFundingUnitOfWork(runtime.session_factory),
        ledger=ledger,
        delivery=delivery or invoice_delivery(settings),
        render_invoice=render_invoice_pdf,
        terms=invoice_terms(settings),
        public_url=settings.public_url,
        auto_link_deposits_default=settings.auto_link_deposits_default,
        batch_size_max=settings.recovery_batch_size_max,
    )

    async def complete_auto_link(funding_id: str) -> object:
        return await linking.advance_funding(context, funding_id)

    for topic, group_id, handler in consumers.subscriptions(context.unit_of_work, complete_auto_link):
        runtime.subscribe(topic, group_id, handler)
    recovery = RecoveryLoop(context, settings.recovery_interval_ms)
    # --- top-ups: mobile-money provider, routes and resolver (topup_wiring.py) ---
    topups = build_topups(
        settings,
        runtime.session_factory,
        ledger=ledger,
        provider=topup_provider,
        workspace_identity=lambda workspace_id: workspaces.workspace_identity(context, workspace_id),
    )
    # --- end top-ups ---

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.install(app)  # engine, session factory and owner lease for Idempotency-Key
        app.state.funding_context = context
        await runtime.start()
        if settings.recovery_enabled:
            # Resumes links and holds a previous process left open, then keeps watching.
            recovery.start()
        try:
            async with topups.running(app):  # top-ups: the resolver and sandbox callbacks
                yield
        finally:
            await recovery.stop()
            await runtime.stop()
            await ledger.aclose()

    app = create_http_app(
        settings=settings,
        title="Clearway Funding",
        version="0.1.0",
        routers=[http.router, http_payables.router, http_fundings.router, *topups.routers],
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    install_funding_error_handlers(app)
    topups.install(app)  # top-ups
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=FundingSettings,
        app_factory_path="clearway.funding.main:create_app",
    )
