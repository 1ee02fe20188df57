"""The payout service's only wiring: runtime, consumers, app. Nothing connects at import."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from clearway.payout.adapters.unit_of_work import SqlPayoutUnitOfWork
from clearway.payout.config import PayoutSettings
from clearway.payout.entrypoints import consumers, http
from clearway.platform.logging import configure_logging
from clearway.platform.migrations import upgrade_database
from clearway.platform.runtime import ServiceRuntime, service_command_line

SERVICE_NAME = "payout"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def run_migrations(database_url: str) -> None:
    upgrade_database(MIGRATIONS_DIR, database_url)


def create_app(settings: PayoutSettings | None = None) -> FastAPI:
    settings = settings or PayoutSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    runtime = ServiceRuntime.for_service(settings)
    for topic, group_id, handler in consumers.subscriptions(lambda: SqlPayoutUnitOfWork(runtime.session_factory)):
        runtime.subscribe(topic, group_id, handler)
    return runtime.create_app(title="Clearway Payout", routers=[http.router])


if __name__ == "__main__":
    service_command_line(
        service_name=SERVICE_NAME,
        migrations_dir=MIGRATIONS_DIR,
        settings_factory=PayoutSettings,
        app_factory_path="clearway.payout.main:create_app",
    )
