"""The ledger service's only wiring: pool, pipeline, runtime, app. Nothing connects at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from clearway.contracts.catalogue import topics_for_service
from clearway.ledger.adapters.database import create_pool
from clearway.ledger.adapters.posting_store import SqlFastLaneStore, SqlPostingUnitOfWork
from clearway.ledger.config import LedgerSettings
from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.entrypoints import consumers, http_accounts, http_schema, http_transactions
from clearway.ledger.entrypoints.dependencies import as_problem
from clearway.ledger.service.posting.fast_lane import BalanceCache, FastLane
from clearway.ledger.service.posting.pipeline import PostingPipeline, utc_now
from clearway.ledger.service.sweeper import run_sweeper
from clearway.platform.dead_letters.router import dead_letters_router
from clearway.platform.errors import response_for_problem
from clearway.platform.http import create_http_app
from clearway.platform.ids import new_id
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.runtime import ServiceRuntime, service_command_line

SERVICE_NAME = "ledger"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


async def _ledger_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    return response_for_problem(as_problem(error), request.url.path)


def create_app(settings: LedgerSettings | None = None) -> FastAPI:
    settings = settings or LedgerSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime(
        settings, topics=[(spec.name, spec.partitions) for spec in topics_for_service(SERVICE_NAME)]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, size_max=settings.database_pool_size)
        fast_lane = (
            FastLane(SqlFastLaneStore(pool), BalanceCache(), clock=utc_now, new_id=new_id)
            if settings.fast_lane
            else None
        )
        pipeline = PostingPipeline(
            SqlPostingUnitOfWork(pool),
            workers=settings.pipeline_workers,
            batch_size_max=settings.pipeline_batch_size_max,
            fast_lane=fast_lane,
        )
        await pipeline.start()
        app.state.ledger_pool = pool
        app.state.pipeline = pipeline
        runtime.install(app)
        for topic, group_id, handler in consumers.subscriptions(pipeline, pool):
            runtime.subscribe(topic, group_id, handler)
        for topic, group_id, batch_handler in consumers.batch_subscriptions(pipeline):
            runtime.subscribe_batch(topic, group_id, batch_handler)
        await runtime.start()
        sweeper = asyncio.create_task(
            run_sweeper(
                pool, pipeline, interval_ms=settings.sweeper_interval_ms, batch_size_max=settings.sweeper_batch_size_max
            ),
            name="ledger-sweeper",
        )
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await runtime.stop()
            await pipeline.stop()
            await pool.close()

    app = create_http_app(
        settings=settings,
        title="Clearway Ledger",
        version="0.1.0",
        # Transactions first: FastAPI tries routes in order, and the posting routes are the hot path.
        routers=[http_transactions.router, http_accounts.router, http_schema.router, dead_letters_router()],
        lifespan=lifespan,
        readiness_checks=runtime.readiness_checks(),
    )
    app.state.runtime = runtime  # at build time: tests compare its subscriptions with the catalogue
    app.add_exception_handler(LedgerError, _ledger_error)
    return app


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=LedgerSettings,
        app_factory_path="clearway.ledger.main:create_app",
    )
