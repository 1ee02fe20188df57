"""Reconciliation settings (`CLEARWAY_RECONCILIATION_*`)."""

from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_RECONCILIATION_", extra="ignore", populate_by_name=True)

    service_name: str = "reconciliation"
    port: int = 5005
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_reconciliation"
