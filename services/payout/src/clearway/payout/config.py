"""Payout settings (`CLEARWAY_PAYOUT_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class PayoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_PAYOUT_", extra="ignore", populate_by_name=True)

    service_name: str = "payout"
    port: int = 5004
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_payout"

    # Seed 001 answers business refusals (limits, funds, terminal withdrawals) with 430; clients
    # written against it set 430 here. Everyone else gets the standard 422.
    business_error_status: Literal[422, 430] = 422

    # The ledger, called over HTTP with a service credential.
    ledger_url: str = Field(
        default="http://127.0.0.1:5001",
        validation_alias=AliasChoices("ledger_url", "CLEARWAY_PAYOUT_LEDGER_URL", "CLEARWAY_LEDGER_URL"),
    )
    ledger_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ledger_api_key", "CLEARWAY_PAYOUT_LEDGER_API_KEY")
    )
    ledger_timeout_ms: int = Field(default=5_000, ge=100, le=60_000)
    ledger_attempts_max: int = Field(default=4, ge=1, le=10)

    # The B2C rail: `sandbox` simulates M-Pesa in-process (control API at /sandbox/mobile-money);
    # `daraja` is Safaricom's API, configured by CLEARWAY_DARAJA_*.
    mobile_money_provider: Literal["sandbox", "daraja"] = "sandbox"
    # The secret path segment of the rail's callbacks (random per process when unset).
    mobile_money_callback_token: SecretStr | None = None
    # Sandbox only: how long the simulated rail takes to answer, and its callback delivery loop.
    sandbox_answer_delay_ms: int = Field(default=500, ge=0, le=600_000)
    sandbox_delivery_loop: bool = True
    sandbox_poll_interval_ms: int = Field(default=100, ge=10, le=60_000)

    # The account bank payouts are paid from (the pain.001 debtor).
    bank_debtor_name: str = Field(default="Clearway Payments", min_length=1, max_length=70)
    bank_debtor_iban: str = "DE89370400440532013000"
    bank_debtor_bic: str = "COBADEFFXXX"

    # Recovery: finishes reservations, submissions and ledger effects a crash left, asks about
    # overdue payouts. Intervals and graces in milliseconds.
    recovery_enabled: bool = True
    recovery_interval_ms: int = Field(default=1_000, ge=10, le=600_000)
    recovery_batch_size_max: int = Field(default=50, ge=1, le=1_000)
    reservation_grace_ms: int = Field(default=10_000, ge=0, le=3_600_000)
    submission_grace_ms: int = Field(default=10_000, ge=0, le=3_600_000)
    status_query_after_ms: int = Field(default=30_000, ge=0, le=3_600_000)
    status_query_interval_ms: int = Field(default=15_000, ge=10, le=3_600_000)
    status_queries_max: int = Field(default=20, ge=1, le=1_000)

    @model_validator(mode="after")
    def _ledger_key_defaults_to_dev_key(self) -> PayoutSettings:
        # Locally every service shares the dev admin key; production configures a service key.
        if self.ledger_api_key is None:
            self.ledger_api_key = self.dev_api_key
        return self
