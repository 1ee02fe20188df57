"""Wiring for wallet top-ups, called from `main.create_app` (kept apart so main stays short).

Builds the mobile-money provider (`sandbox` by default, or `daraja`), the top-up service and its
routers, and runs the two background tasks in the app's lifespan: the resolver that asks the
provider about overdue callbacks, and, in sandbox mode, the simulated customer's callbacks, which
are POSTed to this app's own callback route in-process (so they pass the same checks as a real one).
Nothing connects at build time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clearway.funding.adapters.ledger_client import HttpLedgerClient
from clearway.funding.adapters.topup_ledger import LedgerTopupWallets
from clearway.funding.adapters.topup_repository import SqlTopupUnitOfWork
from clearway.funding.config import FundingSettings
from clearway.funding.entrypoints import http_topups
from clearway.funding.service.ports import Ledger
from clearway.funding.service.topups import TopupPolicy, TopupService
from clearway.platform.auth import OPERATOR, require_roles
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import (
    DarajaClient,
    DarajaSettings,
    MobileMoneyProvider,
    SandboxOutcome,
    SandboxProvider,
    Scenario,
    sandbox_control_router,
)

logger = get_logger("clearway.funding.topups")

SANDBOX_CALLBACK_BASE_URL = "http://funding.internal"
TASK_STOP_TIMEOUT_S = 5.0


@dataclass
class TopupComponents:
    settings: FundingSettings
    service: TopupService
    routers: list[APIRouter]
    sandbox: SandboxProvider | None = None
    sandbox_callback_token: str | None = None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def install(self, app: FastAPI) -> None:
        """Before the app serves: routes find the service here; logs never show callback tokens."""
        app.state.topups = self.service
        http_topups.install_callback_log_redaction()

    @contextlib.asynccontextmanager
    async def running(self, app: FastAPI) -> AsyncIterator[None]:
        """The resolver and (sandbox) callback delivery run while the app does."""
        tasks: list[asyncio.Task[None]] = []
        callback_client: httpx.AsyncClient | None = None
        if self.sandbox is not None:
            callback_client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=SANDBOX_CALLBACK_BASE_URL, timeout=30.0
            )
            self.sandbox.set_deliver(_deliver_to(callback_client, self._sandbox_callback_path()))
            if self.settings.topup_sandbox_delivery_loop:
                tasks.append(
                    asyncio.create_task(
                        self.sandbox.run_delivery_loop(poll_interval_ms=self.settings.topup_sandbox_poll_interval_ms),
                        name="topup-sandbox-callbacks",
                    )
                )
        if self.settings.topup_resolver_enabled:
            tasks.append(asyncio.create_task(self._resolver_loop(), name="topup-resolver"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, timeout=TASK_STOP_TIMEOUT_S)
            if callback_client is not None:
                await callback_client.aclose()
            for close in self._closers:
                await close()

    def _sandbox_callback_path(self) -> str:
        assert self.sandbox_callback_token is not None
        return f"{http_topups.ROUTE_PREFIX}/callbacks/{self.service.provider.name}/{self.sandbox_callback_token}"

    async def _resolver_loop(self) -> None:
        interval_s = self.settings.topup_resolver_interval_ms / 1000
        batch_size_max = self.settings.topup_resolver_batch_size_max
        while True:  # until cancelled at shutdown; each pass handles at most one bounded batch
            try:
                report = await self.service.resolve_due(batch_size_max)
                if report.checked or report.given_up:
                    logger.info("top-up resolver pass", **dataclasses.asdict(report))
            except Exception:
                # The database or the provider may be down: log and try again on the next pass.
                logger.exception("top-up resolver pass failed")
            await asyncio.sleep(interval_s)


class CallbackDeliveryFailed(Exception):
    """The callback route did not accept a sandbox callback (the message never names the URL: it holds the token)."""


def _deliver_to(client: httpx.AsyncClient, path: str) -> Callable[[bytes], Awaitable[None]]:
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


def _provider(settings: FundingSettings) -> tuple[MobileMoneyProvider, SandboxProvider | None, str | None]:
    if settings.mobile_money_provider == "daraja":
        # CLEARWAY_DARAJA_*: credentials, shortcode, passkey, and the CallBackURL with its secret token.
        return DarajaClient(DarajaSettings()), None, None
    configured = settings.mobile_money_callback_token
    token = configured.get_secret_value() if configured is not None else secrets.token_urlsafe(24)
    sandbox = SandboxProvider(
        default_scenario=Scenario(SandboxOutcome.APPROVE, settings.topup_sandbox_answer_delay_ms),
        callback_token=token,
    )
    return sandbox, sandbox, token


def build_topups(
    settings: FundingSettings,
    session_factory: async_sessionmaker[AsyncSession],
    *,
    ledger: Ledger | None = None,
    ledger_transport: httpx.AsyncBaseTransport | None = None,
    provider: MobileMoneyProvider | None = None,
    workspace_identity: Callable[[str], Awaitable[str]] | None = None,
) -> TopupComponents:
    """`provider` (tests: a SandboxProvider they steer) and `ledger` (the app's own client) are optional."""
    closers: list[Callable[[], Awaitable[None]]] = []
    if ledger is None:
        client = HttpLedgerClient(
            settings.ledger_url,
            settings.ledger_api_key,
            timeout_ms=settings.ledger_timeout_ms,
            attempts_max=settings.ledger_attempts_max,
            transport=ledger_transport,
        )
        closers.append(client.aclose)
        ledger = client
    if provider is None:
        provider, sandbox, token = _provider(settings)
        if isinstance(provider, DarajaClient):
            closers.append(provider.aclose)
    else:
        # A sandbox a test steers checks the token it was built with (build it with the settings' one).
        sandbox = provider if isinstance(provider, SandboxProvider) else None
        configured = settings.mobile_money_callback_token
        token = configured.get_secret_value() if configured is not None else "unverified"
    policy = TopupPolicy(
        status_query_after_ms=settings.topup_status_query_after_ms,
        status_query_interval_ms=settings.topup_status_query_interval_ms,
        status_queries_max=settings.topup_status_queries_max,
        default_currency=settings.topup_currency_default,
        currencies=frozenset(settings.topup_currencies),
    )
    service = TopupService(
        unit_of_work=lambda: SqlTopupUnitOfWork(session_factory),
        provider=provider,
        ledger=LedgerTopupWallets(ledger),
        policy=policy,
        workspace_identity=workspace_identity,
    )
    routers = [http_topups.router]
    if sandbox is not None:
        routers.append(sandbox_control_router(sandbox, dependencies=[Depends(require_roles(OPERATOR))]))
    return TopupComponents(
        settings=settings,
        service=service,
        routers=routers,
        sandbox=sandbox,
        sandbox_callback_token=token,
        _closers=closers,
    )
