"""Console settings (`CLEARWAY_CONSOLE_*`): where the other services answer, and session limits.

The console has no database; `database_url` is inherited from the shared settings and unused.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from clearway.platform.settings import ServiceSettings


def _service_url(service: str, port: int) -> str:
    # The shared `CLEARWAY_<SERVICE>_URL` (what `make run` sets for every process) or the prefixed name.
    return Field(
        default=f"http://127.0.0.1:{port}",
        validation_alias=AliasChoices(
            f"{service}_url", f"CLEARWAY_CONSOLE_{service.upper()}_URL", f"CLEARWAY_{service.upper()}_URL"
        ),
    )


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_CONSOLE_", extra="ignore", populate_by_name=True)

    service_name: str = "console"
    port: int = 5006

    ledger_url: str = _service_url("ledger", 5001)
    authorization_url: str = _service_url("authorization", 5002)
    funding_url: str = _service_url("funding", 5003)
    payout_url: str = _service_url("payout", 5004)
    reconciliation_url: str = _service_url("reconciliation", 5005)

    # A signed-in operator is forgotten after this long without a request (the key with them).
    session_idle_timeout_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    sessions_max: int = Field(default=10_000, ge=1, le=1_000_000)
    # Behind TLS the cookie must be Secure; `make run` serves plain HTTP on 127.0.0.1.
    secure_cookies: bool = False
    request_timeout_ms: int = Field(default=10_000, ge=100, le=120_000)

    def service_urls(self) -> dict[str, str]:
        return {
            "ledger": self.ledger_url,
            "authorization": self.authorization_url,
            "funding": self.funding_url,
            "payout": self.payout_url,
            "reconciliation": self.reconciliation_url,
        }
