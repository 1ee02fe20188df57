"""Payout settings (`CLEARWAY_PAYOUT_*`)."""

from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class PayoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_PAYOUT_", extra="ignore", populate_by_name=True)

    service_name: str = "payout"
    port: int = 5004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_payout"
