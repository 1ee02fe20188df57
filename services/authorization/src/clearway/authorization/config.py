"""Authorization settings (`CLEARWAY_AUTHORIZATION_*`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class AuthorizationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_AUTHORIZATION_", extra="ignore", populate_by_name=True)

    service_name: str = "authorization"
    port: int = 5002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_authorization"

    # The ledger, called over HTTP with a service credential.
    ledger_url: str = Field(
        default="http://127.0.0.1:5001",
        validation_alias=AliasChoices("ledger_url", "CLEARWAY_AUTHORIZATION_LEDGER_URL", "CLEARWAY_LEDGER_URL"),
    )
    ledger_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ledger_api_key", "CLEARWAY_AUTHORIZATION_LEDGER_API_KEY")
    )
    ledger_timeout_ms: int = Field(default=5_000, ge=100, le=60_000)
    ledger_attempts_max: int = Field(default=4, ge=1, le=10)

    # Velocity: at most this many authorizations per card within the window. Off (None) by default.
    velocity_count_max: int | None = Field(default=None, ge=1, le=100_000)
    velocity_window_ms: int = Field(default=60_000, ge=1_000, le=86_400_000)

    # Recovery: finishes `opening` accounts, `pending` authorizations and `reversing` reversals a
    # crash or a lost request left, once they are older than the grace period.
    recovery_enabled: bool = True
    recovery_interval_ms: int = Field(default=1_000, ge=10, le=600_000)
    recovery_grace_ms: int = Field(default=5_000, ge=0, le=3_600_000)
    recovery_batch_size_max: int = Field(default=50, ge=1, le=1_000)

    # Expiry: approved authorizations requested more than `authorization_expiry_days` before the
    # business date (today, UTC, for the periodic run) and never cleared or reversed get their hold
    # voided; `POST /admin/jobs/expire-authorizations` runs it for any date.
    authorization_expiry_days: int = Field(
        default=7,
        ge=0,
        le=3_650,
        validation_alias=AliasChoices("authorization_expiry_days", "expiry_days", "CLEARWAY_AUTHORIZATION_EXPIRY_DAYS"),
    )
    expiry_enabled: bool = True
    expiry_interval_ms: int = Field(default=3_600_000, ge=1_000, le=86_400_000)

    # Billing: `accrue-interest`, `close-cycles` and `mark-overdue` for today (UTC), each idempotent per
    # account and business date; `POST /admin/jobs/{job}` runs one for any date.
    billing_enabled: bool = True
    billing_interval_ms: int = Field(default=3_600_000, ge=1_000, le=86_400_000)

    @model_validator(mode="after")
    def _ledger_key_defaults_to_dev_key(self) -> AuthorizationSettings:
        # Locally every service shares the dev admin key; production configures a service key.
        if self.ledger_api_key is None:
            self.ledger_api_key = self.dev_api_key
        return self
