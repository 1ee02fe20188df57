"""The authorization matrix (issue 14 §3): every route of every service x every principal (admin,
operator, approver, processor, service, read_only, end user, none) against `route_roles.py`.

A route missing from `route_roles.py`, or named there but gone from the app, fails the build. Each
route is then called as every principal with dummy path ids, an `Idempotency-Key` and, on a
mutation, a JSON body no route accepts (a bare string), so an allowed call stops at validation or
at "not found" after authorization and never moves money; a refused call must be 401 (no or an
unknown credential) or 403 (authenticated, wrong role). FastAPI resolves a route's dependencies,
authorization included, before it validates path, query and body, so an invalid body still sees
the role check first; a refused principal answering 400/404 would show a route checking too late.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route, WebSocketRoute

from clearway.devstack.databases import with_database
from clearway.devstack.testing import wait_until

from . import apps
from .route_roles import KNOWN_SERVER_ERRORS, NONE, PATH_TOKEN_ROUTES, PRINCIPALS, PROCESSOR, ROUTE_ROLES, USER

pytestmark = pytest.mark.integration

MUTATIONS = {"POST", "PUT", "PATCH", "DELETE"}
# A JSON document no route's body model accepts: validation refuses it after the role check.
PROBE_BODY = b'"authorization-matrix-probe"'
DUMMY_ID = "zzz_01j0000000000000000000000"
# Path parameters that are not ids get a value of their own shape.
DUMMY_PATH_VALUES = {
    "currency": "USD",
    "indicator": "wallet:authz-matrix-nobody",
    "reference": "authz-matrix-no-such-reference",
    "key": "authz-matrix-no-such-schema",
    "ik": "authz-matrix-no-such-ik",
    "callback_token": "authz-matrix-wrong-token",
}
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
# Calls in flight at once per service (every route x principal is independent of the others).
CONCURRENT_CALLS = 32
# An unknown API key is refused exactly like no credential at all.
UNKNOWN_KEY = "unknown_key"


def route_keys(app: FastAPI) -> dict[str, Any]:
    """`METHOD /path` -> route, for every route the app serves (HEAD folded into GET)."""
    routes: dict[str, Any] = {}
    for context in _route_contexts(app):
        original = getattr(context, "original_route", context)
        path = context.path
        if isinstance(original, APIWebSocketRoute | WebSocketRoute):
            routes[f"WS {path}"] = context
            continue
        assert isinstance(original, APIRoute | Route), f"a route of an unknown kind: {original!r}"
        for method in sorted((context.methods or set()) - {"HEAD"} or {"HEAD"}):
            routes[f"{method} {path}"] = context
    return routes


def _route_contexts(app: FastAPI) -> list[Any]:
    # FastAPI >= 0.16x keeps included routers lazily (`_IncludedRouter`); iterate their effective
    # routes, with each inclusion's prefix and dependencies applied. Older FastAPI flattens them.
    from fastapi import routing

    iterate = getattr(routing, "iter_route_contexts", None)
    return list(iterate(app.routes)) if iterate is not None else list(app.routes)


# --- the apps, one of each for the module ------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def service_apps(postgres_server_url: str, kafka_bootstrap_servers: str) -> AsyncIterator[dict[str, FastAPI]]:
    """All five services, started once for the module (`make_database` is per test, so the
    module creates and drops its databases itself)."""
    created: list[str] = []

    async def make_database(prefix: str) -> str:
        name = f"t_{prefix}_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(postgres_server_url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        created.append(name)
        return with_database(postgres_server_url, name, driver="asyncpg")

    try:
        async with contextlib.AsyncExitStack() as stack:
            ledger = await stack.enter_async_context(apps.ledger(make_database, kafka_bootstrap_servers))
            started = await asyncio.gather(
                *(
                    stack.enter_async_context(start(make_database, kafka_bootstrap_servers, ledger))
                    for start in apps.SERVICES.values()
                )
            )
            running = {"ledger": ledger, **dict(zip(apps.SERVICES, started, strict=True))}
            for name, app in running.items():
                await _until_ready(name, app)
            yield running
    finally:
        connection = await asyncpg.connect(postgres_server_url)
        try:
            for name in created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


# --- who calls ---------------------------------------------------------------------------------


async def _until_ready(name: str, app: FastAPI) -> None:
    """`GET /health/ready` is in the matrix: a service still joining its consumer groups on a busy
    machine answers 503, which is right, but is not what the matrix is about."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ready") as client:

        async def ready() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await wait_until(ready, f"{name} is ready", timeout_s=60)


def credentials(app: FastAPI, principal: str) -> dict[str, str]:
    if principal == NONE:
        return {}
    if principal == UNKNOWN_KEY:
        return {"X-API-Key": apps.UNKNOWN_KEY}
    if principal == USER:
        settings = app.state.settings
        token = apps.user_token(settings.user_token_issuer, settings.user_token_audience)
        return {"Authorization": f"Bearer {token}"}
    if principal == "admin":
        return {"X-API-Key": apps.ADMIN_KEY}
    return {"X-API-Key": apps.ROLE_KEYS[principal]}


def concrete_path(app: FastAPI, template: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "provider":
            return _provider_name(app)
        return DUMMY_PATH_VALUES.get(name, DUMMY_ID)

    return _PATH_PARAM.sub(value, template)


def _provider_name(app: FastAPI) -> str:
    # The configured rail's own name, so a callback reaches its token check (a wrong provider is 404).
    context = getattr(app.state, "payout_context", None) or getattr(app.state, "funding_context", None)
    if context is not None and hasattr(context, "mobile_money"):
        return str(context.mobile_money.name)
    if context is not None and hasattr(context, "mobile_money_provider"):
        return str(context.mobile_money_provider().name)
    return "sandbox"


@dataclass(frozen=True)
class Answer:
    principal: str
    status: int  # HTTP status; for a WebSocket 101 accepted, 403 closed before accepting
    detail: str = ""


async def call(client: httpx.AsyncClient, app: FastAPI, route: str, principal: str) -> Answer:
    method, template = route.split(" ", 1)
    path = concrete_path(app, template)
    headers = credentials(app, principal)
    if method == "WS":
        return Answer(principal, await websocket_status(app, path, headers))
    content = None
    if method in MUTATIONS:
        headers = {**headers, "Idempotency-Key": f"authz-{uuid.uuid4().hex}"}
        if method != "DELETE":
            headers["Content-Type"] = "application/json"
            content = PROBE_BODY
    response = await client.request(method, path, headers=headers, content=content)
    code = ""
    if response.headers.get("content-type", "").startswith(("application/problem+json", "application/json")):
        with contextlib.suppress(ValueError):
            body = response.json()
            code = str(body.get("code", "")) if isinstance(body, dict) else ""
    return Answer(principal, response.status_code, code)


async def websocket_status(app: FastAPI, path: str, headers: Mapping[str, str]) -> int:
    """Open a WebSocket on `app` in-process: 101 when accepted, else the refusal's HTTP status (403
    for a close before accepting, as browsers and Starlette's test client see it)."""
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()
    connected = False

    async def receive() -> dict[str, Any]:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await answered.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        answered.set()

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "http_version": "1.1",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"authz.test"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 50000),
        "server": ("authz.test", 80),
        "state": {},
    }
    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=10)
    except Exception:  # a server closes the handshake with 500 (1011) when the app raises before accepting
        if not sent:
            return 500
    assert sent, f"the app answered nothing to a WebSocket on {path}"
    first = sent[0]
    if first["type"] == "websocket.accept":
        return 101
    if first["type"] == "websocket.http.response.start":
        return int(first["status"])
    return 403


# --- the checks --------------------------------------------------------------------------------


def refusal_problems(route: str, answer: Answer) -> list[str]:
    """What is wrong with how a principal who may not call `route` was answered."""
    wanted = 401 if answer.principal in {NONE, UNKNOWN_KEY} else 403
    if route.startswith("WS "):
        return [] if answer.status != 101 else [f"{route} as {answer.principal}: accepted, wanted refused"]
    if answer.status == wanted:
        return []
    return [f"{route} as {answer.principal}: {answer.status} {answer.detail}, wanted {wanted}"]


def admission_problems(route: str, answer: Answer, *, server_error_known: bool) -> list[str]:
    if route.startswith("WS "):
        return [] if answer.status == 101 else [f"{route} as {answer.principal}: {answer.status}, wanted accepted"]
    # Readiness answers 503 while a service is not ready (a consumer group rejoining on a busy
    # machine): an honest answer about readiness, not about who may ask.
    readiness_503 = route == "GET /health/ready" and answer.status == 503
    if answer.status in {401, 403} or (answer.status >= 500 and not server_error_known and not readiness_503):
        return [f"{route} as {answer.principal}: {answer.status} {answer.detail}, wanted it admitted"]
    return []


def path_token_problems(route: str, answer: Answer) -> list[str]:
    if answer.status in {401, 403, 404}:
        return []
    return [f"{route} as {answer.principal} with a wrong token: {answer.status} {answer.detail}, wanted refused"]


@pytest.mark.parametrize("service", sorted(ROUTE_ROLES))
async def test_route_roles_name_every_route_and_only_real_routes(
    service: str, service_apps: dict[str, FastAPI]
) -> None:
    served = set(route_keys(service_apps[service]))
    declared = set(ROUTE_ROLES[service])
    assert not served - declared, (
        f"{service} serves routes tests/security/route_roles.py has no rule for (add who may call "
        f"each): {sorted(served - declared)}"
    )
    assert not declared - served, (
        f"tests/security/route_roles.py names {service} routes that no longer exist: {sorted(declared - served)}"
    )


@pytest.mark.parametrize("service", sorted(ROUTE_ROLES))
async def test_every_route_admits_exactly_its_roles(service: str, service_apps: dict[str, FastAPI]) -> None:
    app = service_apps[service]
    served = route_keys(app)
    problems: list[str] = []
    routes = sorted(route for route in ROUTE_ROLES[service] if route in served)  # the rest: the test above
    principals = (*PRINCIPALS, UNKNOWN_KEY)
    in_flight = asyncio.Semaphore(CONCURRENT_CALLS)

    async def answers_for(client: httpx.AsyncClient, route: str) -> list[Answer]:
        async def one(principal: str) -> Answer:
            async with in_flight:
                return await call(client, app, route, principal)

        return list(await asyncio.gather(*(one(principal) for principal in principals)))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{service}") as client:
        every_answer = await asyncio.gather(*(answers_for(client, route) for route in routes))
        for route, answers in zip(routes, every_answer, strict=True):
            allowed = ROUTE_ROLES[service][route]
            known = (service, route) in KNOWN_SERVER_ERRORS
            if known and not any(answer.status >= 500 for answer in answers):
                problems.append(f"{route} no longer answers 5xx: remove it from route_roles.KNOWN_SERVER_ERRORS")
            for answer in answers:
                if (service, route) in PATH_TOKEN_ROUTES:
                    problems += path_token_problems(route, answer)
                elif answer.principal in allowed or (answer.principal == UNKNOWN_KEY and NONE in allowed):
                    problems += admission_problems(route, answer, server_error_known=known)
                else:
                    problems += refusal_problems(route, answer)
    assert not problems, f"{service}: {len(problems)} answers break the matrix:\n" + "\n".join(problems)


async def test_a_processor_key_cannot_mint_money_in_the_ledger(service_apps: dict[str, FastAPI]) -> None:
    """Found by the matrix: a processor key was a ledger writer, so it could post from `@World-<CUR>`
    into any balance, past authorization's card controls. A well-formed transfer is refused by role."""
    app = service_apps["ledger"]
    body = {"amount": 1_000, "currency": "USD", "reference": f"mint-{uuid.uuid4().hex}", "source": "@World-USD",
            "destination": "@Anywhere-USD"}  # fmt: skip
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ledger") as client:
        refused = await client.post("/transactions", json=body, headers=credentials(app, PROCESSOR))
        assert refused.status_code == 403, refused.text
        read = await client.get("/transactions", headers=credentials(app, PROCESSOR))
        assert read.status_code == 200  # still a reader: it may look its own settlements up


async def test_a_processor_key_cannot_read_users_payout_data(service_apps: dict[str, FastAPI]) -> None:
    """Found by the matrix: processors read every user's withdrawal methods, withdrawals and wallet."""
    app = service_apps["payout"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://payout") as client:
        for path in ("/api/v1/payments/withdrawals", "/api/v1/payments/withdrawal-methods"):
            answer = await client.get(path, headers=credentials(app, PROCESSOR))
            assert answer.status_code == 403, (path, answer.text)
