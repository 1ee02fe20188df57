"""API-key authentication: keys map to principals with roles; only key hashes are ever stored.

Configuration (`ServiceSettings.api_keys_json`) holds `sha256(key)` in hex, so a leaked config
does not leak credentials. A presented key is hashed and compared in constant time against
every configured hash. Keys are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from clearway.platform.errors import Forbidden, Unauthorized
from clearway.platform.settings import ServiceSettings

ADMIN = "admin"
OPERATOR = "operator"
APPROVER = "approver"
PROCESSOR = "processor"
SERVICE = "service"
READ_ONLY = "read_only"
KNOWN_ROLES = frozenset({ADMIN, OPERATOR, APPROVER, PROCESSOR, SERVICE, READ_ONLY})

DEV_ADMIN_NAME = "dev-admin"
API_KEYS_MAX = 1_000
API_KEY_LENGTH_MAX = 512
# Blnk clients send `X-Blnk-Key`; seed 002's calls must work unchanged.
API_KEY_HEADERS = ("x-api-key", "x-blnk-key")
_BEARER_PREFIX = "bearer "
_UNAUTHENTICATED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    workspace_id: str | None = None

    def has_role(self, role: str) -> bool:
        return ADMIN in self.roles or role in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return any(self.has_role(role) for role in roles)


class ApiKeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    roles: list[str] = Field(min_length=1, max_length=20)
    workspace_id: str | None = None


_API_KEY_ENTRIES = TypeAdapter(list[ApiKeyEntry])


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Authenticator:
    """Resolves a presented key to a `Principal`, or `None` if it matches no configured key."""

    def __init__(self, entries: Iterable[ApiKeyEntry]) -> None:
        self._entries: list[tuple[bytes, Principal]] = []
        for entry in entries:
            # ARCHITECTURE.md spells it `read-only`; accept both spellings of every role.
            roles = frozenset(role.replace("-", "_") for role in entry.roles)
            unknown = roles - KNOWN_ROLES
            if unknown:
                raise ValueError(f"API key {entry.name!r} has unknown roles: {sorted(unknown)}")
            principal = Principal(name=entry.name, roles=roles, workspace_id=entry.workspace_id)
            self._entries.append((entry.key_sha256.encode("ascii"), principal))
        if len(self._entries) > API_KEYS_MAX:
            raise ValueError(f"at most {API_KEYS_MAX} API keys may be configured")

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Authenticator:
        entries = _API_KEY_ENTRIES.validate_json(settings.api_keys_json or "[]")
        if settings.dev_api_key:
            entries.append(
                ApiKeyEntry(name=DEV_ADMIN_NAME, key_sha256=hash_api_key(settings.dev_api_key), roles=[ADMIN])
            )
        return cls(entries)

    def authenticate(self, key: str) -> Principal | None:
        if not key or len(key) > API_KEY_LENGTH_MAX:
            return None
        presented = hash_api_key(key).encode("ascii")
        matched: Principal | None = None
        # Compare against every entry (no early exit) so timing does not reveal which entry matched.
        for stored, principal in self._entries:
            if hmac.compare_digest(presented, stored) and matched is None:
                matched = principal
        return matched

    def authenticate_headers(self, headers: Mapping[str, str]) -> Principal | None:
        key = api_key_from_headers(headers)
        return self.authenticate(key) if key else None


def api_key_from_headers(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer <key>` first, then `X-API-Key`, then `X-Blnk-Key`."""
    authorization = headers.get("authorization")
    if authorization and authorization[: len(_BEARER_PREFIX)].lower() == _BEARER_PREFIX:
        token = authorization[len(_BEARER_PREFIX) :].strip()
        if token:
            return token
    for header in API_KEY_HEADERS:
        value = headers.get(header)
        if value and value.strip():
            return value.strip()
    return None


# Declared only so /docs shows the three ways to authenticate; the headers are read directly.
_bearer_scheme = HTTPBearer(auto_error=False, description="API key as a bearer token")
_api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)
_blnk_key_scheme = APIKeyHeader(name="X-Blnk-Key", auto_error=False, description="Blnk compatibility")


def get_authenticator(request: Request) -> Authenticator:
    authenticator = getattr(request.app.state, "authenticator", None)
    assert isinstance(authenticator, Authenticator), "app.state.authenticator is not set (use create_http_app)"
    return authenticator


async def current_principal(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
    _api_key: Annotated[str | None, Depends(_api_key_scheme)] = None,
    _blnk_key: Annotated[str | None, Depends(_blnk_key_scheme)] = None,
) -> Principal:
    principal = get_authenticator(request).authenticate_headers(request.headers)
    if principal is None:
        raise Unauthorized("A valid API key is required.", headers=_UNAUTHENTICATED_HEADERS)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals holding any of `roles` (admin holds every role)."""
    assert roles, "require_roles needs at least one role"
    unknown = set(roles) - KNOWN_ROLES
    assert not unknown, f"unknown roles: {sorted(unknown)}"
    wanted = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(wanted):
            raise Forbidden(f"This operation needs one of the roles: {', '.join(sorted(wanted))}.")
        return principal

    return dependency
