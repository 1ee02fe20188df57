"""The reconciliation service's only wiring: settings into one context, then the runtime and its
consumers, the periodic tasks, the routers (GraphQL included) and the error handlers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from clearway.contracts.catalogue import topics_for_service
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.http import create_http_app
from clearway.platform.ledger import HttpLedgerClient
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.periodic import PeriodicTask
from clearway.platform.runtime import ServiceRuntime, service_command_line
from clearway.reconciliation.adapters.owner_clients import AUTHORIZATION, PAYOUT, HttpOwnerClient
from clearway.reconciliation.adapters.unit_of_work import SqlReconciliationUnitOfWork
from clearway.reconciliation.config import ReconciliationSettings
from clearway.reconciliation.entrypoints import (
    consumers,
    graphql,
    http_breaks,
    http_links,
    http_matching,
    http_settlements,
    http_transactions,
)
from clearway.reconciliation.entrypoints.errors import install_reconciliation_error_handlers
from clearway.reconciliation.service import recovery, transactions
from clearway.reconciliation.service.context import ReconciliationContext, ReconciliationPolicy
from clearway.reconciliation.service.graphql_data import LedgerBackedGraphQLData, UnreconciledTx
from clearway.reconciliation.service.orphan_holds import HoldOwner, HoldOwners, OrphanHoldSweep

SERVICE_NAME = "reconciliation"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
TASK_STOP_TIMEOUT_MS = 5_000


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


def periodic_tasks(settings: ReconciliationSettings, context: ReconciliationContext) -> list[PeriodicTask]:
    tasks = []
    if settings.recovery_enabled:
        tasks.append(
            PeriodicTask(
                "reconciliation-recovery",
                settings.recovery_interval_ms,
                lambda: recovery.recover_once(context),
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    if settings.checks_enabled:
        tasks.append(
            PeriodicTask(
                "reconciliation-checks",
                settings.checks_interval_ms,
                lambda: recovery.check_once(context),
                stop_timeout_ms=TASK_STOP_TIMEOUT_MS,
            )
        )
    return tasks


def create_app(
    settings: ReconciliationSettings | None = None,
    *,
    ledger_transport: httpx.AsyncBaseTransport | None = None,
    payout_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`ledger_transport` and `payout_transport` let tests run the ledger and payout in-process
    (httpx.ASGITransport)."""
    settings = settings or ReconciliationSettings()
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
    # The services that hold money, each asked over HTTP when its URL is configured (else its holds
    # are counted unverified); a new holder of money adds its `OwnerApi` here.
    owner_clients = [
        HttpOwnerClient(api, url, key, timeout_ms=settings.payout_timeout_ms, transport=transport)
        for api, url, key, transport in (
            (PAYOUT, settings.payout_url, settings.payout_api_key, payout_transport),
            (AUTHORIZATION, settings.authorization_url, settings.authorization_api_key, None),
        )
        if url
    ]
    asked = {client.api.name: client.owner for client in owner_clients}
    hold_owners = HoldOwners(
        tuple(HoldOwner(api.name, api.hold_prefix, asked.get(api.name)) for api in (PAYOUT, AUTHORIZATION))
    )
    context = ReconciliationContext(
        unit_of_work=lambda: SqlReconciliationUnitOfWork(runtime.session_factory),
        ledger=ledger,
        policy=ReconciliationPolicy(
            payout_settlement_window_s=settings.payout_settlement_window_s,
            orphan_hold_grace_s=settings.orphan_hold_grace_s,
            owner_queries_concurrent_max=settings.owner_queries_concurrent_max,
        ),
        orphan_holds=OrphanHoldSweep(ledger, hold_owners),
    )

    async def unreconciled(ledger_id: str, account_path: str) -> list[UnreconciledTx]:
        found = await transactions.unreconciled_for_account(context, ledger_id, account_path)
        return [
            UnreconciledTx(
                id=item.id,
                description=item.description or item.reference or "",
                amount_minor=item.signed_amount_minor,
                external_id=item.external_id,
            )
            for item in found
        ]

    graphql_data = LedgerBackedGraphQLData(ledger, unreconciled)
    for topic, group_id, handler in consumers.subscriptions(context):
        runtime.subscribe(topic, group_id, handler)
    tasks = periodic_tasks(settings, context)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.install(app)
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
            for client in owner_clients:
                await client.aclose()

    app = create_http_app(
        settings=settings,
        title="Clearway Reconciliation",
        version="0.1.0",
        routers=[
            http_links.router,
            http_transactions.router,
            http_matching.router,
            http_settlements.router,
            http_breaks.router,
            graphql.graphql_router(lambda _request: graphql_data),
            dead_letters_router(),
        ],
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    app.state.runtime = runtime
    app.state.reconciliation_context = context
    install_reconciliation_error_handlers(app)
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=ReconciliationSettings,
        app_factory_path="clearway.reconciliation.main:create_app",
    )
