"""Daraja (M-Pesa) settings, read from `CLEARWAY_DARAJA_*` or passed in by the service's config.

Secrets are `SecretStr` so they never show in reprs, logs or error pages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_BASE_URL = "https://sandbox.safaricom.co.ke"
PRODUCTION_BASE_URL = "https://api.safaricom.co.ke"
CALLBACK_TOKEN_PLACEHOLDER = "{callback_token}"


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

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("callback_url")
    @classmethod
    def _callback_url_has_token_slot(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("callback_url must be an http(s) URL")
        if value.count(CALLBACK_TOKEN_PLACEHOLDER) != 1:
            raise ValueError(f"callback_url must contain {CALLBACK_TOKEN_PLACEHOLDER} exactly once")
        return value

    @model_validator(mode="after")
    def _token_is_url_safe(self) -> DarajaSettings:
        token = self.callback_token.get_secret_value()
        if not all(character.isalnum() or character in "-_" for character in token):
            raise ValueError("callback_token may hold only letters, digits, '-' and '_' (it goes into a URL)")
        return self

    def callback_url_with_token(self) -> str:
        """The CallBackURL sent to Daraja. It holds a secret: never log it."""
        return self.callback_url.replace(CALLBACK_TOKEN_PLACEHOLDER, self.callback_token.get_secret_value())

    def party_b_or_short_code(self) -> str:
        return self.party_b or self.business_short_code
