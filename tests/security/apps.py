"""The five services in-process for the authorization matrix: each on a migrated database of its
own and the session's broker, the ledger in-process behind the others, one API key per role and
end-user tokens accepted everywhere (so a route that does not admit users answers them 403)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping

import httpx
from fastapi import FastAPI

from clearway.devstack.testing import skip_what_was_published
from clearway.platform.auth import hash_api_key
from clearway.platform.migrations import upgrade_database_async
from clearway.platform.user_tokens import issue_user_token

MakeDatabase = Callable[[str], Awaitable[str]]

ADMIN_KEY = "authz-matrix-admin"  # the dev key: `dev-admin`, role admin
ROLE_KEYS = {
    "operator": "authz-matrix-operator",
    "approver": "authz-matrix-approver",
    "processor": "authz-matrix-processor",
    "service": "authz-matrix-service",
    "read_only": "authz-matrix-read-only",
}
UNKNOWN_KEY = "authz-matrix-no-such-key"
USER_TOKEN_SECRET = "authz-matrix-user-token-secret-0123456789abcdef"
USER_IDENTITY = "idt_authzmatrixnobody"
CALLBACK_TOKEN = "authz-matrix-callback-token"

API_KEYS_JSON = json.dumps(
    [{"name": f"authz-{role}", "key_sha256": hash_api_key(key), "roles": [role]} for role, key in ROLE_KEYS.items()]
)
# What every service's settings share: the keys, the user-token secret, quiet logs, and consumer
# groups of the matrix's own (their offsets are moved past earlier tests' events: see `_started`).
COMMON = {
    "dev_api_key": ADMIN_KEY,
    "api_keys_json": API_KEYS_JSON,
    "user_token_secret": USER_TOKEN_SECRET,
    "log_json": False,
    "kafka_consumer_group_prefix": f"authz-matrix-{uuid.uuid4().hex[:8]}.",
}


def user_token(issuer: str, audience: str) -> str:
    return issue_user_token(USER_IDENTITY, secret=USER_TOKEN_SECRET, issuer=issuer, audience=audience)


@contextlib.asynccontextmanager
async def _started(app: FastAPI, groups: Mapping[str, Iterable[str]] | None = None) -> AsyncIterator[FastAPI]:
    # The matrix is about HTTP: consumers that worked through the session's earlier events (an
    # end-to-end test leaves thousands on the shared broker) would only slow the start and the stop.
    await skip_what_was_published(app, groups=groups)
    async with app.router.lifespan_context(app):
        yield app


def ledger_groups() -> dict[str, list[str]]:
    """The ledger subscribes in its lifespan, so its app cannot tell its groups before it starts."""
    from clearway.contracts.catalogue import consumed_by
    from clearway.ledger.entrypoints.consumers import COMMANDS_GROUP_ID

    return {COMMANDS_GROUP_ID: [spec.name for spec in consumed_by("ledger", include_planned=False)]}


@contextlib.asynccontextmanager
async def ledger(make_database: MakeDatabase, kafka: str) -> AsyncIterator[FastAPI]:
    # `clearway.ledger.testing.in_process_ledger` with the role keys (it configures one key only).
    from clearway.ledger.config import LedgerSettings
    from clearway.ledger.main import MIGRATIONS_DIR, create_app

    url = await make_database("authzledger")
    async with _MIGRATING:
        await upgrade_database_async(MIGRATIONS_DIR, url)
    settings = LedgerSettings(database_url=url, kafka_bootstrap_servers=kafka, **COMMON)
    async with _started(create_app(settings), ledger_groups()) as app:
        yield app


# The others reach the in-process ledger through `ledger_transport`, as admin.
LEDGER_WIRING = {"ledger_url": "http://ledger", "ledger_api_key": ADMIN_KEY, "ledger_attempts_max": 1}


@contextlib.asynccontextmanager
async def authorization(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.authorization.config import AuthorizationSettings
    from clearway.authorization.main import create_app, run_migrations

    settings = AuthorizationSettings(
        database_url=await _migrated(make_database, "authzauthorization", run_migrations),
        kafka_bootstrap_servers=kafka,
        expiry_enabled=False,
        **LEDGER_WIRING,
        **COMMON,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


@contextlib.asynccontextmanager
async def funding(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.funding.config import FundingSettings
    from clearway.funding.main import create_app, run_migrations

    settings = FundingSettings(
        database_url=await _migrated(make_database, "authzfunding", run_migrations),
        kafka_bootstrap_servers=kafka,
        mobile_money_callback_token=CALLBACK_TOKEN,
        public_url="http://funding.test",
        **LEDGER_WIRING,
        **COMMON,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


@contextlib.asynccontextmanager
async def payout(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.payout.config import PayoutSettings
    from clearway.payout.main import create_app, run_migrations
    from clearway.providers.mobile_money import SandboxProvider

    settings = PayoutSettings(
        database_url=await _migrated(make_database, "authzpayout", run_migrations),
        kafka_bootstrap_servers=kafka,
        mobile_money_callback_token=CALLBACK_TOKEN,
        sandbox_delivery_loop=False,
        **LEDGER_WIRING,
        **COMMON,
    )
    sandbox = SandboxProvider(callback_token=CALLBACK_TOKEN, id_prefix="AZM")
    app = create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app), payout_provider=sandbox)
    async with _started(app):
        yield app


@contextlib.asynccontextmanager
async def reconciliation(make_database: MakeDatabase, kafka: str, ledger_app: FastAPI) -> AsyncIterator[FastAPI]:
    from clearway.reconciliation.config import ReconciliationSettings
    from clearway.reconciliation.main import create_app, run_migrations

    settings = ReconciliationSettings(
        database_url=await _migrated(make_database, "authzrecon", run_migrations),
        kafka_bootstrap_servers=kafka,
        checks_enabled=False,
        **LEDGER_WIRING,
        **COMMON,
    )
    async with _started(create_app(settings, ledger_transport=httpx.ASGITransport(app=ledger_app))) as app:
        yield app


# Alembic keeps process-wide state: two services migrating at once trip over each other, so the
# services start concurrently (their brokers' group joins overlap) but migrate one at a time.
_MIGRATING = asyncio.Lock()


async def _migrated(make_database: MakeDatabase, name: str, run_migrations: Callable[[str], None]) -> str:
    from clearway.devstack.testing import migrated_database

    async with _MIGRATING:
        return await migrated_database(make_database, name, run_migrations)


SERVICES = {
    "authorization": authorization,
    "funding": funding,
    "payout": payout,
    "reconciliation": reconciliation,
}
