"""Funding settings (`CLEARWAY_FUNDING_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


class FundingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_FUNDING_", extra="ignore", populate_by_name=True)

    service_name: str = "funding"
    port: int = 5003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/clearway_funding"
    # Where links in events and invoices point (the address clients reach funding at).
    public_url: str = "http://127.0.0.1:5003"

    # The ledger, called over HTTP with a service credential.
    ledger_url: str = Field(
        default="http://127.0.0.1:5001",
        validation_alias=AliasChoices("ledger_url", "CLEARWAY_FUNDING_LEDGER_URL", "CLEARWAY_LEDGER_URL"),
    )
    ledger_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("ledger_api_key", "CLEARWAY_FUNDING_LEDGER_API_KEY")
    )
    ledger_timeout_ms: int = Field(default=5_000, ge=100, le=60_000)
    ledger_attempts_max: int = Field(default=4, ge=1, le=10)

    # Invoices.
    invoice_due_days: int = Field(default=7, ge=0, le=365)
    # An unpaid invoice expires this long after its due date; its payables return to approved.
    invoice_expiry_grace_days: int = Field(default=30, ge=0, le=3_650)
    invoice_issuer_name: str = "Clearway Payments"
    invoice_bank_name: str = "Clearway Settlement Bank"
    invoice_account_name: str = "Clearway Client Funds"
    invoice_account_number: str = "000123456789"
    invoice_send_attempts_max: int = Field(default=5, ge=1, le=50)

    # SMTP: off unless smtp_host is set; the `funding.invoice_sent` event is sent either way.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_sender: str = "invoices@clearway.invalid"
    smtp_timeout_ms: int = Field(default=10_000, ge=100, le=120_000)

    # Workspaces created from now on link matching deposits without waiting for a person.
    auto_link_deposits_default: bool = False

    # Recovery: resumes links and holds left by a crash, expires invoices, resends invoices.
    recovery_interval_ms: int = Field(default=5_000, ge=50, le=600_000)
    recovery_batch_size_max: int = Field(default=50, ge=1, le=1_000)
    recovery_enabled: bool = True

    # Top-ups, wallets paid into by mobile money. `sandbox` simulates M-Pesa in-process (control API
    # at /sandbox/mobile-money); `daraja` is Safaricom's API, configured by CLEARWAY_DARAJA_*
    # (credentials and the CallBackURL with its token).
    mobile_money_provider: Literal["sandbox", "daraja"] = "sandbox"
    # The sandbox's callback token (a secret path segment; random per process when unset).
    mobile_money_callback_token: SecretStr | None = None
    # A pending top-up whose callback has not come this long after the push is asked about.
    topup_status_query_after_ms: int = Field(default=30_000, ge=0, le=3_600_000)
    topup_status_query_interval_ms: int = Field(default=15_000, ge=10, le=3_600_000)
    topup_status_queries_max: int = Field(default=20, ge=1, le=1_000)
    topup_resolver_enabled: bool = True
    topup_resolver_interval_ms: int = Field(default=1_000, ge=10, le=600_000)
    topup_resolver_batch_size_max: int = Field(default=100, ge=1, le=1_000)
    topup_currency_default: str = Field(default="KES", pattern=r"^[A-Z]{3}$")
    # Currencies the configured rail collects (M-Pesa: KES only).
    topup_currencies: list[str] = Field(default_factory=lambda: ["KES"], min_length=1, max_length=50)
    # Sandbox only: how long the simulated customer takes to answer, and the callback delivery loop.
    topup_sandbox_answer_delay_ms: int = Field(default=1_000, ge=0, le=600_000)
    topup_sandbox_delivery_loop: bool = True
    topup_sandbox_poll_interval_ms: int = Field(default=100, ge=10, le=60_000)

    @model_validator(mode="after")
    def _topup_default_currency_is_collected(self) -> FundingSettings:
        # Environment input: refuse it as a settings error, not as an assert in TopupPolicy.
        if self.topup_currency_default not in self.topup_currencies:
            raise ValueError(
                f"topup_currency_default {self.topup_currency_default} is not in topup_currencies "
                f"{sorted(self.topup_currencies)}"
            )
        return self

    @model_validator(mode="after")
    def _ledger_key_defaults_to_dev_key(self) -> FundingSettings:
        # Locally every service shares the dev admin key; production configures a service key.
        if self.ledger_api_key is None:
            self.ledger_api_key = self.dev_api_key
        return self
