from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import ValidationError

from clearway.platform.auth import (
    DEV_ADMIN_NAME,
    Authenticator,
    CurrentPrincipal,
    Principal,
    api_key_from_headers,
    hash_api_key,
    require_roles,
)
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings

APPROVER_KEY = "ck_approver_secret"
READER_KEY = "ck_reader_secret"
DEV_KEY = "ck_dev_secret"


def make_settings(**overrides: object) -> ServiceSettings:
    keys = [
        {"name": "alice", "key_sha256": hash_api_key(APPROVER_KEY), "roles": ["approver"], "workspace_id": "ws_1"},
        {"name": "reports", "key_sha256": hash_api_key(READER_KEY), "roles": ["read-only"]},
    ]
    # The settings read these fields through their environment-variable aliases.
    values: dict[str, object] = {"CLEARWAY_API_KEYS": json.dumps(keys), "CLEARWAY_DEV_API_KEY": DEV_KEY}
    values.update(overrides)
    return ServiceSettings.model_validate(values)


router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, object]:
    return {"name": principal.name, "roles": sorted(principal.roles), "workspace_id": principal.workspace_id}


@router.post("/approvals")
async def approve(principal: Annotated[Principal, Depends(require_roles("approver", "operator"))]) -> dict[str, str]:
    return {"approved_by": principal.name}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_http_app(settings=make_settings(), title="t", version="0", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def test_keys_resolve_to_principals_and_unknown_keys_to_none() -> None:
    authenticator = Authenticator.from_settings(make_settings())
    alice = authenticator.authenticate(APPROVER_KEY)
    assert alice == Principal(name="alice", roles=frozenset({"approver"}), workspace_id="ws_1")
    reader = authenticator.authenticate(READER_KEY)
    assert reader is not None and reader.roles == frozenset({"read_only"})
    dev = authenticator.authenticate(DEV_KEY)
    assert dev is not None and dev.name == DEV_ADMIN_NAME and dev.roles == frozenset({"admin"})
    assert authenticator.authenticate("ck_wrong") is None
    assert authenticator.authenticate("") is None
    assert authenticator.authenticate("x" * 10_000) is None


def test_admin_holds_every_role() -> None:
    admin = Principal(name="root", roles=frozenset({"admin"}))
    assert admin.has_role("approver") and admin.has_any_role(["processor"])
    operator = Principal(name="ops", roles=frozenset({"operator"}))
    assert operator.has_role("operator") and not operator.has_role("approver")


def test_key_is_read_from_bearer_x_api_key_and_blnk_header() -> None:
    assert api_key_from_headers({"authorization": "Bearer abc"}) == "abc"
    assert api_key_from_headers({"authorization": "bearer  abc "}) == "abc"
    assert api_key_from_headers({"x-api-key": "def"}) == "def"
    assert api_key_from_headers({"x-blnk-key": "ghi"}) == "ghi"
    assert api_key_from_headers({"authorization": "Basic Zm9v"}) is None
    assert api_key_from_headers({}) is None


def test_configuration_is_validated() -> None:
    with pytest.raises(ValidationError):
        Authenticator.from_settings(
            make_settings(CLEARWAY_API_KEYS=json.dumps([{"name": "x", "key_sha256": "not-hex", "roles": ["admin"]}]))
        )
    with pytest.raises(ValueError, match="unknown roles"):
        Authenticator.from_settings(
            make_settings(CLEARWAY_API_KEYS=json.dumps([{"name": "x", "key_sha256": "a" * 64, "roles": ["god"]}]))
        )


async def test_current_principal_accepts_each_header(client: httpx.AsyncClient) -> None:
    for headers in (
        {"Authorization": f"Bearer {APPROVER_KEY}"},
        {"X-API-Key": APPROVER_KEY},
        {"X-Blnk-Key": APPROVER_KEY},
    ):
        response = await client.get("/me", headers=headers)
        assert response.status_code == 200, headers
        assert response.json() == {"name": "alice", "roles": ["approver"], "workspace_id": "ws_1"}


async def test_missing_or_wrong_key_is_401(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"X-API-Key": "ck_wrong"}):
        response = await client.get("/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == "Bearer"
        assert "ck_wrong" not in response.text


async def test_require_roles_is_403_without_a_matching_role(client: httpx.AsyncClient) -> None:
    assert (await client.post("/approvals", headers={"X-API-Key": APPROVER_KEY})).json() == {"approved_by": "alice"}
    assert (await client.post("/approvals", headers={"X-API-Key": DEV_KEY})).status_code == 200
    refused = await client.post("/approvals", headers={"X-API-Key": READER_KEY})
    assert refused.status_code == 403
    assert refused.json()["code"] == "FORBIDDEN"
    assert (await client.post("/approvals")).status_code == 401
