"""The B2C rail payouts use, built from settings: `sandbox` (M-Pesa simulated in-process, the
default) or `daraja` (Safaricom's API, configured by `CLEARWAY_DARAJA_*`).

In sandbox mode the simulated rail's result and timeout callbacks are POSTed to payout's own
callback routes in-process, so they pass the same checks as a real one. Nothing connects at build.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import httpx

from clearway.payout.config import PayoutSettings
from clearway.providers.mobile_money import (
    DarajaClient,
    DarajaSettings,
    MobileMoneyPayoutProvider,
    SandboxOutcome,
    SandboxProvider,
    Scenario,
)

CALLBACK_TOKEN_BYTES = 24


class CallbackDeliveryFailed(Exception):
    """The callback route did not accept a sandbox callback (the message never names the URL: it holds the token)."""


def callback_token(settings: PayoutSettings) -> str:
    configured = settings.mobile_money_callback_token
    return configured.get_secret_value() if configured is not None else secrets.token_urlsafe(CALLBACK_TOKEN_BYTES)


def build_provider(settings: PayoutSettings, *, token: str) -> MobileMoneyPayoutProvider:
    if settings.mobile_money_provider == "daraja":
        return DarajaClient(DarajaSettings())
    return SandboxProvider(
        default_scenario=Scenario(SandboxOutcome.APPROVE, settings.sandbox_answer_delay_ms),
        callback_token=token,
        id_prefix="SBP",
    )


async def close_provider(provider: MobileMoneyPayoutProvider) -> None:
    if isinstance(provider, DarajaClient):
        await provider.aclose()


def sandbox_delivery(client: httpx.AsyncClient, path: str) -> Callable[[bytes], Awaitable[None]]:
    """What the sandbox calls to send a callback: a POST to `path` through `client` (the app in-process)."""

    async def deliver(body: bytes) -> None:
        response = await client.post(path, content=body, headers={"content-type": "application/json"})
        if response.status_code != 200:
            # The sandbox records the failed delivery; the status query still settles the payout.
            raise CallbackDeliveryFailed(f"callback answered {response.status_code}")

    return deliver
