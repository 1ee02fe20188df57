"""Who is calling: operator API keys, and end users with bearer tokens.

API keys: configuration (`ServiceSettings.api_keys_json`, and `api_keys_file` re-read when it
changes: rotation without a restart) holds `sha256(key)` in hex, so a leaked config does not leak
credentials. A presented key is hashed and compared in constant time against every configured hash.
Keys are never logged.

End users: `Authorization: Bearer <JWT>` is verified by `clearway.platform.user_tokens` (when a key
is configured) and becomes `Principal(name="user:<sub>", roles={"user"}, user_id=<sub>)`. A route
admits users only when it lists `USER` in `require_roles`, and then scopes what it reads and
writes to `principal.user_id`. A bearer value shaped like a JWT is never looked up as an API key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from clearway.platform.errors import Forbidden, Unauthorized
from clearway.platform.logging import get_logger
from clearway.platform.settings import ServiceSettings
from clearway.platform.user_tokens import (
    UserClaims,
    UserTokenKeysUnavailable,
    UserTokenRefused,
    UserTokenVerifier,
    looks_like_jwt,
)

ADMIN = "admin"
OPERATOR = "operator"
APPROVER = "approver"
PROCESSOR = "processor"
SERVICE = "service"
READ_ONLY = "read_only"
# An end user holding a verified token; never granted to an API key.
USER = "user"
KNOWN_ROLES = frozenset({ADMIN, OPERATOR, APPROVER, PROCESSOR, SERVICE, READ_ONLY, USER})
USER_PRINCIPAL_PREFIX = "user:"

DEV_ADMIN_NAME = "dev-admin"
DEV_APPROVER_NAME = "dev-approver"
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
    user_id: str | None = None  # an end user's ledger identity id (the token's `sub`); None for API keys
    # Requests per second this key may make (admission.py); None: the service's default, if any.
    rate_limit_per_s: float | None = None

    @property
    def is_end_user(self) -> bool:
        """Branch on this, not on `has_role(USER)`: admin holds every role but is no end user."""
        return self.user_id is not None

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
    rate_limit_per_s: float | None = Field(default=None, gt=0, le=1_000_000)


_API_KEY_ENTRIES = TypeAdapter(list[ApiKeyEntry])
# How often a request may look at the keys file's modification time (one stat, not a read).
KEYS_FILE_CHECK_INTERVAL_S = 2.0

logger = get_logger("clearway.platform.auth")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def user_principal(claims: UserClaims) -> Principal:
    return Principal(name=f"{USER_PRINCIPAL_PREFIX}{claims.subject}", roles=frozenset({USER}), user_id=claims.subject)


def _api_key_roles(entry: ApiKeyEntry) -> frozenset[str]:
    # ARCHITECTURE.md spells it `read-only`; accept both spellings of every role.
    roles = frozenset(role.replace("-", "_") for role in entry.roles)
    unknown = roles - KNOWN_ROLES
    if unknown:
        raise ValueError(f"API key {entry.name!r} has unknown roles: {sorted(unknown)}")
    if USER in roles:
        # A key would act for every user at once; end users prove who they are with a token.
        raise ValueError(f"API key {entry.name!r} has role {USER!r}: end users authenticate with tokens, not keys")
    if entry.name.startswith(USER_PRINCIPAL_PREFIX):
        # Idempotency keys are scoped by principal name: a key must never share a user's scope.
        raise ValueError(f"API key names may not start with {USER_PRINCIPAL_PREFIX!r}: {entry.name!r}")
    return roles


def _resolved(entries: Iterable[ApiKeyEntry]) -> list[tuple[bytes, Principal]]:
    return [
        (
            entry.key_sha256.encode("ascii"),
            Principal(
                name=entry.name,
                roles=_api_key_roles(entry),
                workspace_id=entry.workspace_id,
                rate_limit_per_s=entry.rate_limit_per_s,
            ),
        )
        for entry in entries
    ]


class KeysFile:
    """API keys kept in a file, re-read when the file changes, so keys rotate without a restart:
    list the new key beside the old one (both valid), move the clients over, then remove the old.

    The file is looked at (one stat) at most every `KEYS_FILE_CHECK_INTERVAL_S`. A file that cannot
    be read or does not validate leaves the keys it last held in force, and says so in the log: a
    broken edit must neither lock everyone out nor let anyone in."""

    def __init__(
        self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.monotonic, load_now: bool = True
    ) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        self._signature: tuple[int, int, int] | None = None
        self._next_check_at = 0.0
        self.entries: list[tuple[bytes, Principal]] = []
        if load_now and not self.reload_if_changed():
            # At start a missing or invalid file is a configuration error, not something to wait out.
            raise ValueError(f"API keys file {self.path} could not be loaded")

    def reload_if_changed(self) -> bool:
        """Re-read the file if it changed since the last look; -> whether the keys were replaced."""
        now = self._clock()
        if now < self._next_check_at:
            return False
        self._next_check_at = now + KEYS_FILE_CHECK_INTERVAL_S
        try:
            stat = os.stat(self.path)
            signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if signature == self._signature:
                return False
            with open(self.path, "rb") as file:
                entries = _resolved(_API_KEY_ENTRIES.validate_json(file.read()))
        except (OSError, ValueError) as error:
            logger.error(
                "API keys file not loaded; the keys it last held stay in force",
                path=self.path,
                error=type(error).__name__,
            )
            return False
        if len(entries) > API_KEYS_MAX:
            logger.error("API keys file lists too many keys; not loaded", path=self.path, keys=len(entries))
            return False
        self._signature, self.entries = signature, entries
        logger.info("API keys loaded", path=self.path, keys=len(entries))
        return True


class Authenticator:
    """Resolves presented credentials to a `Principal`: API keys, and user tokens when `user_tokens` is set."""

    def __init__(
        self,
        entries: Iterable[ApiKeyEntry],
        *,
        user_tokens: UserTokenVerifier | None = None,
        keys_file: KeysFile | None = None,
    ) -> None:
        self._configured = _resolved(entries)
        self._keys_file = keys_file
        self._entries = self._configured + (keys_file.entries if keys_file else [])
        if len(self._entries) > API_KEYS_MAX:
            raise ValueError(f"at most {API_KEYS_MAX} API keys may be configured")
        self.user_tokens = user_tokens

    @property
    def has_rate_limited_keys(self) -> bool:
        return any(principal.rate_limit_per_s for _, principal in self._entries)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Authenticator:
        entries = _API_KEY_ENTRIES.validate_json(settings.api_keys_json or "[]")
        if settings.dev_api_key:
            entries.append(
                ApiKeyEntry(name=DEV_ADMIN_NAME, key_sha256=hash_api_key(settings.dev_api_key), roles=[ADMIN])
            )
        if settings.dev_approver_api_key:
            entries.append(
                ApiKeyEntry(
                    name=DEV_APPROVER_NAME,
                    key_sha256=hash_api_key(settings.dev_approver_api_key),
                    roles=[APPROVER, OPERATOR],
                )
            )
        keys_file = KeysFile(settings.api_keys_file) if settings.api_keys_file else None
        return cls(entries, user_tokens=UserTokenVerifier.from_settings(settings), keys_file=keys_file)

    def authenticate(self, key: str) -> Principal | None:
        if not key or len(key) > API_KEY_LENGTH_MAX:
            return None
        if self._keys_file is not None and self._keys_file.reload_if_changed():
            self._entries = self._configured + self._keys_file.entries
        presented = hash_api_key(key).encode("ascii")
        matched: Principal | None = None
        # Compare against every entry (no early exit) so timing does not reveal which entry matched.
        for stored, principal in self._entries:
            if hmac.compare_digest(presented, stored) and matched is None:
                matched = principal
        return matched

    def authenticate_headers(self, headers: Mapping[str, str]) -> Principal | None:
        """Synchronous, never raises: for middleware (idempotency) that only needs to know who it is."""
        token = self.user_token_from_headers(headers)
        if token is not None:
            assert self.user_tokens is not None
            try:
                return user_principal(self.user_tokens.verify_now(token))
            except (UserTokenRefused, UserTokenKeysUnavailable):
                return None
        key = api_key_from_headers(headers)
        return self.authenticate(key) if key else None

    async def principal_for(self, headers: Mapping[str, str]) -> Principal:
        """The caller, or a 401 problem (`USER_TOKEN_*` for a bad user token, else `UNAUTHENTICATED`)."""
        token = self.user_token_from_headers(headers)
        if token is not None:
            assert self.user_tokens is not None
            return user_principal(await self.user_tokens.verify(token))
        key = api_key_from_headers(headers)
        principal = self.authenticate(key) if key else None
        if principal is None:
            raise Unauthorized("A valid API key is required.", headers=_UNAUTHENTICATED_HEADERS)
        return principal

    async def principal_or_none(self, headers: Mapping[str, str]) -> Principal | None:
        """`principal_for` for middleware that only needs to know who it is: never raises, and never
        blocks the event loop (a JWKS key not yet fetched is fetched off the loop)."""
        try:
            return await self.principal_for(headers)
        except (Unauthorized, UserTokenRefused, UserTokenKeysUnavailable):
            return None

    def user_token_from_headers(self, headers: Mapping[str, str]) -> str | None:
        """The bearer value when it is a JWT and user tokens are accepted here; else None (API keys)."""
        if self.user_tokens is None:
            return None
        bearer = _bearer_value(headers)
        return bearer if bearer is not None and looks_like_jwt(bearer) else None


def _bearer_value(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization")
    if authorization and authorization[: len(_BEARER_PREFIX)].lower() == _BEARER_PREFIX:
        token = authorization[len(_BEARER_PREFIX) :].strip()
        if token:
            return token
    return None


def api_key_from_headers(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer <key>` first, then `X-API-Key`, then `X-Blnk-Key`."""
    bearer = _bearer_value(headers)
    if bearer:
        return bearer
    for header in API_KEY_HEADERS:
        value = headers.get(header)
        if value and value.strip():
            return value.strip()
    return None


def get_authenticator(request: Request) -> Authenticator:
    authenticator = getattr(request.app.state, "authenticator", None)
    assert isinstance(authenticator, Authenticator), "app.state.authenticator is not set (use create_http_app)"
    return authenticator


def get_user_token_verifier(request: Request) -> UserTokenVerifier | None:
    """The verifier `create_http_app` built from settings (None: user tokens are not accepted)."""
    return get_authenticator(request).user_tokens


# Where a request keeps its resolved caller: a key of its own in the ASGI scope, never filled from
# lifespan state (which servers copy into every request's `scope["state"]`).
_PRINCIPAL_SCOPE_KEY = "clearway.principal"


async def current_principal(request: Request) -> Principal:
    """The caller (a 401 problem without a valid credential), resolved once per request."""
    principal = request.scope.get(_PRINCIPAL_SCOPE_KEY)
    if not isinstance(principal, Principal):
        principal = await get_authenticator(request).principal_for(request.headers)
        request.scope[_PRINCIPAL_SCOPE_KEY] = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits principals holding any of `roles` (admin holds every role)."""
    assert roles, "require_roles needs at least one role"
    unknown = set(roles) - KNOWN_ROLES
    assert not unknown, f"unknown roles: {sorted(unknown)}"
    wanted = frozenset(roles)

    # Through `CurrentPrincipal`, so `app.dependency_overrides[current_principal]` stands in for the
    # caller here too (tests and tools rely on it).
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any_role(wanted):
            raise Forbidden(f"This operation needs one of the roles: {', '.join(sorted(wanted))}.")
        return principal

    return dependency


class PrincipalOut(BaseModel):
    """Who a credential is: what a console shows in its header (never the credential itself)."""

    name: str
    roles: list[str]
    workspace_id: str | None = None
    user_id: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> PrincipalOut:
        return cls(
            name=principal.name,
            roles=sorted(principal.roles),
            workspace_id=principal.workspace_id,
            user_id=principal.user_id,
        )


def whoami_router() -> APIRouter:
    """`GET /auth/whoami`: the caller's principal, so a client can show who it acts as and offer
    only what its roles allow (the routes still refuse the rest)."""
    router = APIRouter(tags=["auth"])

    @router.get("/auth/whoami")
    async def whoami(principal: CurrentPrincipal) -> PrincipalOut:
        return PrincipalOut.of(principal)

    return router
