"""Authorization settings (`CLEARWAY_AUTHORIZATION_*`)."""

from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class AuthorizationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_AUTHORIZATION_", extra="ignore", populate_by_name=True)

    service_name: str = "authorization"
    port: int = 5002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_authorization"
