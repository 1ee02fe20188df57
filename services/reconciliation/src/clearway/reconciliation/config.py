"""Reconciliation settings (`CLEARWAY_RECONCILIATION_*`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class ReconciliationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_RECONCILIATION_", extra="ignore", populate_by_name=True)

    service_name: str = "reconciliation"
    port: int = 5005
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_reconciliation"

    # The ledger, called over HTTP with a service credential.
    ledger_url: str = Field(
        default="http://127.0.0.1:5001",
        validation_alias=AliasChoices("ledger_url", "CLEARWAY_RECONCILIATION_LEDGER_URL", "CLEARWAY_LEDGER_URL"),
    )
    ledger_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ledger_api_key", "CLEARWAY_RECONCILIATION_LEDGER_API_KEY")
    )
    ledger_timeout_ms: int = Field(default=10_000, ge=100, le=60_000)
    ledger_attempts_max: int = Field(default=4, ge=1, le=10)

    # Posts matches left unposted, initiations, reversals of cancelled payments.
    recovery_enabled: bool = True
    recovery_interval_ms: int = Field(default=2_000, ge=50, le=600_000)
    # Breaks: clearing accounts pending too long, balances that disagree, cross-service checks.
    checks_enabled: bool = True
    checks_interval_ms: int = Field(default=60_000, ge=100, le=86_400_000)
    payout_settlement_window_s: int = Field(default=3 * 24 * 3600, ge=1, le=365 * 24 * 3600)
    # Orphan holds: a hold (or its owner's end) younger than this is not judged, since the owner's
    # row may commit just after its hold, and its commit or void just after its decision.
    orphan_hold_grace_s: int = Field(default=60, ge=0, le=24 * 3600)
    owner_queries_concurrent_max: int = Field(default=8, ge=1, le=64)

    # Payout, asked whether a withdrawal still needs its hold. Not configured: payout's holds are
    # counted unverified, never reported.
    payout_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("payout_url", "CLEARWAY_RECONCILIATION_PAYOUT_URL", "CLEARWAY_PAYOUT_URL"),
    )
    payout_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("payout_api_key", "CLEARWAY_RECONCILIATION_PAYOUT_API_KEY")
    )
    payout_timeout_ms: int = Field(default=5_000, ge=100, le=60_000)
    # Authorization, asked whether an authorization still needs its hold; the same rules as payout.
    authorization_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "authorization_url", "CLEARWAY_RECONCILIATION_AUTHORIZATION_URL", "CLEARWAY_AUTHORIZATION_URL"
        ),
    )
    authorization_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("authorization_api_key", "CLEARWAY_RECONCILIATION_AUTHORIZATION_API_KEY"),
    )

    @model_validator(mode="after")
    def _ledger_key_defaults_to_dev_key(self) -> ReconciliationSettings:
        # Locally every service shares the dev admin key; production configures a service key.
        if self.ledger_api_key is None:
            self.ledger_api_key = self.dev_api_key
        if self.payout_api_key is None:
            self.payout_api_key = self.dev_api_key
        if self.authorization_api_key is None:
            self.authorization_api_key = self.dev_api_key
        return self
