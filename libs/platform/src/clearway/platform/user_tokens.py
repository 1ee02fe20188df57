"""End-user identity: `Authorization: Bearer <JWT>`, verified with PyJWT.

A token must be signed with the configured key and carry `exp`, `iss`, `aud` and `sub`; `sub` is
the user's ledger identity id. Keys come from `ServiceSettings` (all un-prefixed, shared by every
service):

- `CLEARWAY_USER_TOKEN_JWKS_URL`: the identity provider's JWKS (RS256/ES256), production;
- `CLEARWAY_USER_TOKEN_PUBLIC_KEY`: one PEM public key (RS256 or ES256 by its type);
- `CLEARWAY_USER_TOKEN_SECRET`: an HS256 secret, the embedded stack's (`make user-token`).

Exactly one may be set; none means user tokens are not accepted. Only the configured kind of key
is ever used, so a token cannot choose its own algorithm (no `none`, no HS256 signed with a
public key). Tokens and secrets are never logged and never echoed in an answer.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from clearway.platform.errors import ProblemError, Unauthorized
from clearway.platform.settings import ServiceSettings

USER_TOKEN_INVALID = "USER_TOKEN_INVALID"  # noqa: S105 (an error code)
USER_TOKEN_EXPIRED = "USER_TOKEN_EXPIRED"  # noqa: S105 (an error code)
USER_TOKEN_KEYS_UNAVAILABLE = "USER_TOKEN_KEYS_UNAVAILABLE"  # noqa: S105 (an error code)
USER_TOKEN_TTL_S = 3_600
# Clocks of the issuer and of our hosts drift a little; more would stretch a token's life.
LEEWAY_S = 30
REQUIRED_CLAIMS = ("exp", "iss", "aud", "sub")
USER_TOKEN_LENGTH_MAX = 8_192
SUBJECT_LENGTH_MAX = 200
# RFC 7518 §3.2: an HS256 key shorter than the hash output weakens the MAC.
HS256_SECRET_BYTES_MIN = 32
HS256 = "HS256"
RS256 = "RS256"
ES256 = "ES256"
ASYMMETRIC_ALGORITHMS = frozenset({RS256, ES256})
JWKS_FETCH_TIMEOUT_S = 5.0
JWKS_CACHE_LIFESPAN_S = 300.0
# Compact JWS: header.payload.signature, each base64url. An unsigned token (empty signature) is not one.
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_REFUSED_HEADERS = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
# Our own words for PyJWT's refusals: its messages may quote parts of the token.
_REASONS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.MissingRequiredClaimError, "a required claim is missing"),
    (jwt.ImmatureSignatureError, "not valid yet"),
    (jwt.InvalidAlgorithmError, "algorithm not accepted"),
    (jwt.DecodeError, "malformed"),
)


def looks_like_jwt(value: str) -> bool:
    """Three base64url segments: told apart from API keys (which never contain dots) by shape."""
    return len(value) <= USER_TOKEN_LENGTH_MAX and _JWT_SHAPE.match(value) is not None


class UserTokenRefused(Unauthorized):
    """The bearer token is not a valid user token: 401 with `USER_TOKEN_INVALID` or `USER_TOKEN_EXPIRED`."""

    default_code = USER_TOKEN_INVALID

    def __init__(self, detail: str, *, code: str = USER_TOKEN_INVALID) -> None:
        super().__init__(detail, code=code, headers=_REFUSED_HEADERS)


class UserTokenKeysUnavailable(ProblemError):
    """The JWKS endpoint did not answer: the token may be fine, so 503 (retry), never 401."""

    default_status = 503
    default_code = USER_TOKEN_KEYS_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("The user token signing keys are unavailable; retry later.", headers={"Retry-After": "5"})


@dataclass(frozen=True, slots=True)
class UserClaims:
    subject: str  # the user's ledger identity id
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class _Key:
    key: Any  # bytes (HS256) or a cryptography public key
    algorithm: str


class _KeySource(Protocol):
    def key_now(self, token: str) -> _Key:
        """The key for `token` without waiting on the network where possible."""

    async def key(self, token: str) -> _Key:
        """The key for `token`; network I/O runs off the event loop."""


class _StaticKey:
    def __init__(self, key: _Key) -> None:
        self._key = key

    def key_now(self, token: str) -> _Key:
        return self._key

    async def key(self, token: str) -> _Key:
        return self._key


class _JwksKeys:
    """Keys from a JWKS URL through `jwt.PyJWKClient` (cache, refresh on an unknown `kid`).

    The async path fetches in a thread and remembers every key it used, so the synchronous path
    (the idempotency middleware resolving the caller) does not wait on the network for known keys.
    """

    def __init__(self, client: jwt.PyJWKClient) -> None:
        self._client = client
        self._known: dict[str, _Key] = {}

    def key_now(self, token: str) -> _Key:
        kid = _kid(token)
        known = self._known.get(kid)
        return known if known is not None else self._lookup(kid)

    async def key(self, token: str) -> _Key:
        return await asyncio.to_thread(self._lookup, _kid(token))

    def _lookup(self, kid: str) -> _Key:
        try:
            signing_key = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            raise UserTokenKeysUnavailable() from error
        except (jwt.PyJWKClientError, jwt.PyJWKError, jwt.InvalidKeyError) as error:
            self._known.pop(kid, None)  # withdrawn from the set: stop trusting it here too
            raise UserTokenRefused("The user token is not valid (unknown signing key).") from error
        if signing_key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
            raise UserTokenRefused("The user token is not valid (algorithm not accepted).")
        key = _Key(signing_key.key, signing_key.algorithm_name)
        self._known[kid] = key
        return key


def _kid(token: str) -> str:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.DecodeError as error:
        raise UserTokenRefused("The user token is not valid (malformed).") from error
    if not isinstance(kid, str) or not kid:
        raise UserTokenRefused("The user token is not valid (no key id).")
    return kid


class UserTokenVerifier:
    """Verifies user tokens: `await verifier.verify(token)` -> `UserClaims`, or raises `UserTokenRefused`."""

    def __init__(self, keys: _KeySource, *, issuer: str, audience: str, leeway_s: int = LEEWAY_S) -> None:
        assert issuer and audience, "a user token verifier needs an issuer and an audience"
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    @classmethod
    def hs256(cls, secret: str, *, issuer: str, audience: str) -> UserTokenVerifier:
        return cls(_StaticKey(_Key(_hs256_secret(secret), HS256)), issuer=issuer, audience=audience)

    @classmethod
    def public_key_pem(cls, pem: str, *, issuer: str, audience: str) -> UserTokenVerifier:
        return cls(_StaticKey(_public_key(pem)), issuer=issuer, audience=audience)

    @classmethod
    def jwks(cls, client: jwt.PyJWKClient, *, issuer: str, audience: str) -> UserTokenVerifier:
        return cls(_JwksKeys(client), issuer=issuer, audience=audience)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> UserTokenVerifier | None:
        """The verifier the settings configure, or None (user tokens not accepted)."""
        secret = settings.user_token_secret.get_secret_value() if settings.user_token_secret else None
        configured = [name for name, value in _key_settings(settings, secret) if value]
        if len(configured) > 1:
            raise ValueError(f"configure one user token key, not several: {', '.join(configured)}")
        claims = {"issuer": settings.user_token_issuer, "audience": settings.user_token_audience}
        if settings.user_token_jwks_url:
            return cls.jwks(jwks_client(settings.user_token_jwks_url), **claims)
        if settings.user_token_public_key_pem:
            return cls.public_key_pem(settings.user_token_public_key_pem, **claims)
        if secret:
            return cls.hs256(secret, **claims)
        return None

    async def verify(self, token: str) -> UserClaims:
        """Signature, `exp`, `iss`, `aud` and `sub`; a JWKS fetch runs in a thread."""
        return self._decode(token, await self._keys.key(_bounded(token)))

    def verify_now(self, token: str) -> UserClaims:
        """The same checks, synchronously: for callers outside a coroutine (the idempotency middleware).

        With a JWKS it waits on the network only for a key id it has not seen yet.
        """
        return self._decode(token, self._keys.key_now(_bounded(token)))

    def _decode(self, token: str, key: _Key) -> UserClaims:
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as error:
            raise UserTokenRefused("The user token has expired.", code=USER_TOKEN_EXPIRED) from error
        except jwt.InvalidTokenError as error:
            raise UserTokenRefused(f"The user token is not valid ({_reason(error)}).") from error
        return UserClaims(subject=_subject(claims), expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC))


def issue_user_token(
    identity_id: str,
    *,
    secret: str,
    issuer: str,
    audience: str,
    ttl_s: int = USER_TOKEN_TTL_S,
    issued_at: int | None = None,
) -> str:
    """An HS256 user token for `identity_id` (the embedded stack and tests; production tokens come
    from the identity provider). `issued_at` (Unix seconds) defaults to now."""
    assert identity_id and len(identity_id) <= SUBJECT_LENGTH_MAX, "a user token names one identity"
    now = int(time.time()) if issued_at is None else issued_at
    claims = {"sub": identity_id, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, _hs256_secret(secret), algorithm=HS256)


def jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, lifespan=JWKS_CACHE_LIFESPAN_S, timeout=JWKS_FETCH_TIMEOUT_S)


def _key_settings(settings: ServiceSettings, secret: str | None) -> list[tuple[str, str | None]]:
    return [
        ("CLEARWAY_USER_TOKEN_JWKS_URL", settings.user_token_jwks_url),
        ("CLEARWAY_USER_TOKEN_PUBLIC_KEY", settings.user_token_public_key_pem),
        ("CLEARWAY_USER_TOKEN_SECRET", secret),
    ]


def _hs256_secret(secret: str) -> bytes:
    encoded = secret.encode("utf-8")
    if len(encoded) < HS256_SECRET_BYTES_MIN:
        raise ValueError(f"the user token secret must be at least {HS256_SECRET_BYTES_MIN} bytes")
    return encoded


def _public_key(pem: str) -> _Key:
    # An environment variable holds one line: accept `\n` escapes for the PEM's line breaks.
    text = pem.replace("\\n", "\n").strip().encode("ascii")
    try:
        key = load_pem_public_key(text)
    except ValueError as error:
        raise ValueError("the user token public key is not a PEM public key") from error
    if isinstance(key, rsa.RSAPublicKey):
        return _Key(key, RS256)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return _Key(key, ES256)
    raise ValueError("the user token public key must be RSA (RS256) or EC P-256 (ES256)")


def _bounded(token: str) -> str:
    if not looks_like_jwt(token):
        raise UserTokenRefused("The user token is not valid (malformed).")
    return token


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > SUBJECT_LENGTH_MAX:
        raise UserTokenRefused("The user token is not valid (bad subject).")
    return subject


def _reason(error: jwt.InvalidTokenError) -> str:
    return next((reason for kind, reason in _REASONS if isinstance(error, kind)), "rejected")
