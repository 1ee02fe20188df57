"""The mobile-money rail top-ups use, built from settings: `sandbox` (M-Pesa simulated in-process,
the default) or `daraja` (Safaricom's API, configured by `CLEARWAY_DARAJA_*`).

In sandbox mode the simulated customer's callbacks are POSTed to funding's own callback route
in-process, so they pass the same checks as a real one. Nothing connects at build time.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import httpx

from clearway.funding.config import FundingSettings
from clearway.providers.mobile_money import (
    DarajaClient,
    DarajaSettings,
    MobileMoneyProvider,
    SandboxOutcome,
    SandboxProvider,
    Scenario,
)

CALLBACK_TOKEN_BYTES = 24


def sandbox_callback_token(settings: FundingSettings) -> str:
    """The secret path segment sandbox callbacks carry: configured, or random per process."""
    configured = settings.mobile_money_callback_token
    return configured.get_secret_value() if configured is not None else secrets.token_urlsafe(CALLBACK_TOKEN_BYTES)


def build_provider(settings: FundingSettings, *, sandbox_callback_token: str) -> MobileMoneyProvider:
    if settings.mobile_money_provider == "daraja":
        # CLEARWAY_DARAJA_*: credentials, shortcode, passkey, and the CallBackURL with its secret token.
        return DarajaClient(DarajaSettings())
    return SandboxProvider(
        default_scenario=Scenario(SandboxOutcome.APPROVE, settings.topup_sandbox_answer_delay_ms),
        callback_token=sandbox_callback_token,
    )


async def close_provider(provider: MobileMoneyProvider) -> None:
    """Release the provider's connections (the Daraja client holds an HTTP pool; the sandbox none)."""
    if isinstance(provider, DarajaClient):
        await provider.aclose()


class CallbackDeliveryFailed(Exception):  # the sandbox's request log shows this name: kept as it was
    """The callback route did not accept a sandbox callback (the message never names the URL: it holds the token)."""


def sandbox_callback_delivery(client: httpx.AsyncClient, path: str) -> Callable[[bytes], Awaitable[None]]:
    """What the sandbox calls to send a callback: a POST to `path` through `client` (the app in-process)."""

    async def deliver(body: bytes) -> None:
        response = await client.post(path, content=body, headers={"content-type": "application/json"})
        if response.status_code != 200:
            # The sandbox records the failed delivery (Daraja would not retry it); the resolver recovers.
            raise CallbackDeliveryFailed(f"callback answered {response.status_code} {_problem_code(response)}".strip())

    return deliver


def _problem_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""
