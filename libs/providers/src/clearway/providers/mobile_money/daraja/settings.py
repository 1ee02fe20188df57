"""Daraja (M-Pesa) settings, read from `CLEARWAY_DARAJA_*` or passed in by the service's config.

Secrets are `SecretStr` so they never show in reprs, logs or error pages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_BASE_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL = "https://api.safaricom.co.ke"
CALLBACK_TOKEN_PLACEHOLDER = "{callback_token}"  # noqa: S105 (a template placeholder)


class DarajaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_DARAJA_", extra="ignore")

    base_url: str = SANDBOX_BASE_URL
    consumer_key: SecretStr
    consumer_secret: SecretStr
    business_short_code: str = Field(pattern=r"^\d{5,7}$")
    passkey: SecretStr
    transaction_type: Literal["CustomerPayBillOnline", "CustomerBuyGoodsOnline"] = "CustomerPayBillOnline"
    # Buy Goods pays a till that differs from the store shortcode; Pay Bill pays the shortcode itself.
    party_b: str | None = Field(default=None, pattern=r"^\d{5,7}$")
    # Must contain "{callback_token}", e.g. https://api.example.com/callbacks/mpesa/{callback_token}:
    # Daraja signs nothing, so this secret path segment is how a callback proves it came from our push.
    callback_url: str
    callback_token: SecretStr = Field(min_length=16)
    connect_timeout_ms: int = Field(default=5_000, ge=100, le=60_000)
    read_timeout_ms: int = Field(default=30_000, ge=100, le=120_000)
    # Applies to idempotent calls only (token, status query); an STK push is never resent.
    retry_attempts_max: int = Field(default=3, ge=1, le=10)
    retry_backoff_ms: int = Field(default=200, ge=0, le=10_000)
    retry_backoff_max_ms: int = Field(default=2_000, ge=0, le=60_000)
    # Refresh the OAuth token this long before Daraja says it expires (clock skew, slow requests).
    token_refresh_margin_ms: int = Field(default=60_000, ge=0, le=600_000)
    # M-Pesa's per-transaction ceiling for customer payments, in whole shillings.
    amount_major_max: int = Field(default=250_000, ge=1)
    phone_default_region: str = Field(default="KE", pattern=r"^[A-Z]{2}$")

    # B2C payouts (`DarajaClient.pay`); all optional so a C2B-only service need not set them.
    # The B2C shortcode (PartyA) that pays out; defaults to business_short_code.
    b2c_short_code: str | None = Field(default=None, pattern=r"^\d{5,7}$")
    b2c_initiator_name: str | None = Field(default=None, min_length=1, max_length=64)
    # The initiator password encrypted with Safaricom's public certificate, base64 (the portal makes it).
    b2c_security_credential: SecretStr | None = None
    b2c_command_id: Literal["BusinessPayment", "SalaryPayment", "PromotionPayment"] = "BusinessPayment"
    # Each must contain "{callback_token}" like callback_url. The status-result URL receives the
    # TransactionStatus answers (default: b2c_result_url; parse_result_callback reads both).
    b2c_result_url: str | None = None
    b2c_timeout_url: str | None = None
    b2c_status_result_url: str | None = None
    # M-Pesa's B2C per-transaction ceiling, in whole shillings.
    b2c_amount_major_max: int = Field(default=250_000, ge=1)

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("callback_url", "b2c_result_url", "b2c_timeout_url", "b2c_status_result_url")
    @classmethod
    def _callback_url_has_token_slot(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("callback URLs must be http(s) URLs")
        if value.count(CALLBACK_TOKEN_PLACEHOLDER) != 1:
            raise ValueError(f"callback URLs must contain {CALLBACK_TOKEN_PLACEHOLDER} exactly once")
        return value

    @model_validator(mode="after")
    def _token_is_url_safe(self) -> DarajaSettings:
        token = self.callback_token.get_secret_value()
        if not all(character.isalnum() or character in "-_" for character in token):
            raise ValueError("callback_token may hold only letters, digits, '-' and '_' (it goes into a URL)")
        return self

    def callback_url_with_token(self) -> str:
        """The CallBackURL sent to Daraja. It holds a secret: never log it."""
        return self._with_token(self.callback_url)

    def party_b_or_short_code(self) -> str:
        return self.party_b or self.business_short_code

    def _with_token(self, url: str) -> str:
        return url.replace(CALLBACK_TOKEN_PLACEHOLDER, self.callback_token.get_secret_value())

    def b2c_configured(self) -> bool:
        return bool(
            self.b2c_initiator_name and self.b2c_security_credential and self.b2c_result_url and self.b2c_timeout_url
        )

    def b2c_party_a(self) -> str:
        return self.b2c_short_code or self.business_short_code

    def b2c_result_url_with_token(self) -> str:
        """The B2C ResultURL sent to Daraja. It holds a secret: never log it."""
        assert self.b2c_result_url, "b2c_result_url is not configured"
        return self._with_token(self.b2c_result_url)

    def b2c_timeout_url_with_token(self) -> str:
        """The B2C QueueTimeOutURL sent to Daraja. It holds a secret: never log it."""
        assert self.b2c_timeout_url, "b2c_timeout_url is not configured"
        return self._with_token(self.b2c_timeout_url)

    def b2c_status_result_url_with_token(self) -> str:
        """The TransactionStatus ResultURL sent to Daraja. It holds a secret: never log it."""
        return self._with_token(self.b2c_status_result_url or self.b2c_result_url or "")
