"""Funding settings (`CLEARWAY_FUNDING_*`)."""

from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_FUNDING_", extra="ignore", populate_by_name=True)

    service_name: str = "funding"
    port: int = 5003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_funding"
