"""The services the fuzzer runs, each in-process on a migrated database of its own and the
session's broker, with the ledger in-process behind the ones that call it.

To fuzz another service, add a `FuzzTarget` to `FUZZ_TARGETS`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping

import httpx
from fastapi import FastAPI

from clearway.devstack.testing import migrated_database, skip_what_was_published
from clearway.platform.migrations import upgrade_database_async

ADMIN_KEY = "fuzz-admin"
CALLBACK_TOKEN = "fuzz-callback-token"

MakeDatabase = Callable[[str], Awaitable[str]]
Start = Callable[[MakeDatabase, str, FastAPI], contextlib.AbstractAsyncContextManager[FastAPI]]

# The sandbox's control routes steer the fake mobile-money rail the tests own (scenarios,
# redelivery, reversal); they exist only with the sandbox provider and are not a product API.
SANDBOX_CONTROL = re.compile(r"^/sandbox/")


@dataclasses.dataclass(frozen=True)
class FuzzTarget:
    start: Start
    excluded_paths: tuple[re.Pattern[str], ...] = ()

    def excluded(self, _method: str, path: str) -> bool:
        return any(pattern.search(path) for pattern in self.excluded_paths)


# Consumer groups of the fuzz run's own: `_started` moves them past what earlier tests published.
GROUP_PREFIX = f"fuzz-{uuid.uuid4().hex[:8]}."


def ledger_groups() -> dict[str, list[str]]:
    """The ledger subscribes in its lifespan, so its app cannot tell its groups before it starts."""
    from clearway.contracts.catalogue import consumed_by
    from clearway.ledger.entrypoints.consumers import COMMANDS_GROUP_ID

    return {COMMANDS_GROUP_ID: [spec.name for spec in consumed_by("ledger", include_planned=False)]}


@contextlib.asynccontextmanager
async def fuzz_ledger(make_database: MakeDatabase, kafka_bootstrap_servers: str) -> AsyncIterator[FastAPI]:
    """The one ledger of the run: fuzzed itself, and the ledger the other services call
    (`clearway.ledger.testing.in_process_ledger`, with the run's consumer group prefix)."""
    from clearway.ledger.config import LedgerSettings
    from clearway.ledger.main import MIGRATIONS_DIR, create_app

    url = await make_database("fuzzledger")
    await upgrade_database_async(MIGRATIONS_DIR, url)
    settings = LedgerSettings(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_consumer_group_prefix=GROUP_PREFIX,
        dev_api_key=ADMIN_KEY,
        log_json=False,
    )
    async with _started(create_app(settings), ledger_groups()) as app:
        yield app


@contextlib.asynccontextmanager
async def _started(app: FastAPI, groups: Mapping[str, Iterable[str]] | None = None) -> AsyncIterator[FastAPI]:
    # The fuzzer is about HTTP: consumers that worked through the session's earlier events (an
    # end-to-end test leaves thousands on the shared broker) would only compete for the CPU.
    await skip_what_was_published(app, groups=groups)
    async with app.router.lifespan_context(app):
        yield app


@contextlib.asynccontextmanager
async def _ledger(_make_database: MakeDatabase, _kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    yield ledger_app


@contextlib.asynccontextmanager
async def _funding(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.funding.config import FundingSettings
    from clearway.funding.main import create_app, run_migrations

    settings = FundingSettings(
        database_url=await migrated_database(make_database, "fuzzfunding", run_migrations),
        kafka_bootstrap_servers=kafka,
        dev_api_key=ADMIN_KEY,
        ledger_url="http://ledger",
        ledger_api_key=ADMIN_KEY,
        ledger_attempts_max=1,
        mobile_money_callback_token=CALLBACK_TOKEN,
        log_json=False,
        public_url="http://funding.test",
        kafka_consumer_group_prefix=GROUP_PREFIX,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


@contextlib.asynccontextmanager
async def _payout(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.payout.config import PayoutSettings
    from clearway.payout.main import create_app, run_migrations
    from clearway.providers.mobile_money import SandboxProvider

    settings = PayoutSettings(
        database_url=await migrated_database(make_database, "fuzzpayout", run_migrations),
        kafka_bootstrap_servers=kafka,
        dev_api_key=ADMIN_KEY,
        ledger_url="http://ledger",
        ledger_api_key=ADMIN_KEY,
        ledger_attempts_max=1,
        mobile_money_callback_token=CALLBACK_TOKEN,
        sandbox_delivery_loop=False,
        log_json=False,
        kafka_consumer_group_prefix=GROUP_PREFIX,
    )
    sandbox = SandboxProvider(callback_token=CALLBACK_TOKEN, id_prefix="FUZ")
    app = create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app), payout_provider=sandbox)
    async with _started(app):
        yield app


@contextlib.asynccontextmanager
async def _reconciliation(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.reconciliation.config import ReconciliationSettings
    from clearway.reconciliation.main import create_app, run_migrations

    settings = ReconciliationSettings(
        database_url=await migrated_database(make_database, "fuzzrecon", run_migrations),
        kafka_bootstrap_servers=kafka,
        dev_api_key=ADMIN_KEY,
        ledger_url="http://ledger",
        ledger_api_key=ADMIN_KEY,
        ledger_attempts_max=1,
        log_json=False,
        checks_enabled=False,
        kafka_consumer_group_prefix=GROUP_PREFIX,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


@contextlib.asynccontextmanager
async def _authorization(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.authorization.config import AuthorizationSettings
    from clearway.authorization.main import create_app, run_migrations

    settings = AuthorizationSettings(
        database_url=await migrated_database(make_database, "fuzzauthorization", run_migrations),
        kafka_bootstrap_servers=kafka,
        dev_api_key=ADMIN_KEY,
        ledger_url="http://ledger",
        ledger_api_key=ADMIN_KEY,
        ledger_attempts_max=1,
        log_json=False,
        # The periodic passes would only compete with the fuzzer for the CPU.
        recovery_enabled=False,
        expiry_enabled=False,
        billing_enabled=False,
        kafka_consumer_group_prefix=GROUP_PREFIX,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


FUZZ_TARGETS: dict[str, FuzzTarget] = {
    "ledger": FuzzTarget(start=_ledger),
    "authorization": FuzzTarget(start=_authorization),
    "funding": FuzzTarget(start=_funding, excluded_paths=(SANDBOX_CONTROL,)),
    "payout": FuzzTarget(start=_payout, excluded_paths=(SANDBOX_CONTROL,)),
    "reconciliation": FuzzTarget(start=_reconciliation),
}
