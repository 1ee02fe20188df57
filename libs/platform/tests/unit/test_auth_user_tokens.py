"""End-user bearer tokens: what `UserTokenVerifier` accepts, and how principals come out of them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import APIRouter, Depends, Request

from clearway.platform.auth import (
    USER,
    Authenticator,
    CurrentPrincipal,
    Principal,
    current_principal,
    hash_api_key,
    require_roles,
)
from clearway.platform.errors import Unauthorized
from clearway.platform.http import create_http_app
from clearway.platform.settings import ServiceSettings
from clearway.platform.user_tokens import (
    USER_TOKEN_EXPIRED,
    USER_TOKEN_INVALID,
    USER_TOKEN_KEYS_UNAVAILABLE,
    UserTokenKeysUnavailable,
    UserTokenRefused,
    UserTokenVerifier,
    issue_user_token,
    looks_like_jwt,
)

SECRET = "s" * 64  # long enough for HS512 too (the wrong-algorithm case)
OTHER_SECRET = "o" * 48
ISSUER = "clearway"
AUDIENCE = "clearway-wallet"
IDENTITY = "idt_0123456789"
OPERATOR_KEY = "ck_operator_secret"


def hs256_token(identity_id: str = IDENTITY, **overrides: Any) -> str:
    values: dict[str, Any] = {"secret": SECRET, "issuer": ISSUER, "audience": AUDIENCE}
    values.update(overrides)
    return issue_user_token(identity_id, **values)


def hs256_verifier() -> UserTokenVerifier:
    return UserTokenVerifier.hs256(SECRET, issuer=ISSUER, audience=AUDIENCE)


def signed(claims: dict[str, Any], key: Any, algorithm: str, **headers: Any) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers or None)


def claims_for(identity_id: str = IDENTITY, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": identity_id, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def public_pem(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def refusal_code(verifier: UserTokenVerifier, token: str) -> str:
    with pytest.raises(UserTokenRefused) as refused:
        await verifier.verify(token)
    assert token not in str(refused.value.detail)
    return refused.value.code


# --- The verifier ----------------------------------------------------------------------------------


async def test_a_valid_hs256_token_names_its_identity() -> None:
    claims = await hs256_verifier().verify(hs256_token())
    assert claims.subject == IDENTITY
    assert claims.expires_at.timestamp() == pytest.approx(time.time() + 3600, abs=5)
    assert hs256_verifier().verify_now(hs256_token()).subject == IDENTITY


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (hs256_token(secret=OTHER_SECRET), USER_TOKEN_INVALID),
        (hs256_token(issued_at=int(time.time()) - 7_200), USER_TOKEN_EXPIRED),
        (hs256_token(issuer="someone-else"), USER_TOKEN_INVALID),
        (hs256_token(audience="another-app"), USER_TOKEN_INVALID),
        (signed(claims_for(sub=None), SECRET, "HS256"), USER_TOKEN_INVALID),
        (signed(claims_for(exp=None), SECRET, "HS256"), USER_TOKEN_INVALID),
        (signed(claims_for(iss=None), SECRET, "HS256"), USER_TOKEN_INVALID),
        (signed(claims_for(aud=None), SECRET, "HS256"), USER_TOKEN_INVALID),
        (signed(claims_for(sub=""), SECRET, "HS256"), USER_TOKEN_INVALID),
        (signed(claims_for(), SECRET, "HS512"), USER_TOKEN_INVALID),
        (signed(claims_for(), None, "none"), USER_TOKEN_INVALID),
        ("not.a-jwt.at-all", USER_TOKEN_INVALID),
    ],
    ids=[
        "wrong-signature",
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "no-sub",
        "no-exp",
        "no-iss",
        "no-aud",
        "empty-sub",
        "other-algorithm",
        "unsigned",
        "garbage",
    ],
)
async def test_hs256_refusals_carry_a_stable_code(token: str, code: str) -> None:
    assert await refusal_code(hs256_verifier(), token) == code


async def test_a_few_seconds_of_clock_skew_are_tolerated() -> None:
    just_expired = hs256_token(issued_at=int(time.time()) - 3_610)
    assert (await hs256_verifier().verify(just_expired)).subject == IDENTITY


async def test_rs256_and_es256_public_keys_verify_their_own_tokens_only() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rs256 = UserTokenVerifier.public_key_pem(public_pem(rsa_key), issuer=ISSUER, audience=AUDIENCE)
    # An environment variable holds the PEM on one line, with `\n` escapes.
    es256 = UserTokenVerifier.public_key_pem(public_pem(ec_key).replace("\n", "\\n"), issuer=ISSUER, audience=AUDIENCE)

    assert (await rs256.verify(signed(claims_for(), rsa_key, "RS256"))).subject == IDENTITY
    assert (await es256.verify(signed(claims_for(), ec_key, "ES256"))).subject == IDENTITY
    assert await refusal_code(rs256, signed(claims_for(), ec_key, "ES256")) == USER_TOKEN_INVALID
    assert await refusal_code(es256, signed(claims_for(), rsa_key, "RS256")) == USER_TOKEN_INVALID
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert await refusal_code(rs256, signed(claims_for(), other_rsa, "RS256")) == USER_TOKEN_INVALID
    expired = claims_for(iat=int(time.time()) - 7_200, exp=int(time.time()) - 3_600)
    assert await refusal_code(es256, signed(expired, ec_key, "ES256")) == USER_TOKEN_EXPIRED


async def test_a_public_key_cannot_be_used_as_an_hs256_secret() -> None:
    """The classic algorithm-confusion forgery, signed by hand (PyJWT refuses to produce it)."""
    pem = public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    verifier = UserTokenVerifier.public_key_pem(pem, issuer=ISSUER, audience=AUDIENCE)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims_for()).encode())}"
    signature = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert await refusal_code(verifier, f"{signing_input}.{_b64(signature)}") == USER_TOKEN_INVALID


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- JWKS ------------------------------------------------------------------------------------------


class _JwksServer:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                served.requests += 1
                body = json.dumps(served.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def publish(self, kid: str, private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
        if isinstance(private_key, rsa.RSAPrivateKey):
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
            jwk["alg"] = "RS256"
        else:
            jwk = jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
            jwk["alg"] = "ES256"
        self.document["keys"].append({**jwk, "kid": kid, "use": "sig"})


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


async def test_a_jwks_url_serves_the_keys_by_kid(jwks_server: _JwksServer) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks_server.publish("rsa-1", rsa_key)
    jwks_server.publish("ec-1", ec_key)
    settings = ServiceSettings.model_validate({"CLEARWAY_USER_TOKEN_JWKS_URL": jwks_server.url})
    verifier = UserTokenVerifier.from_settings(settings)
    assert verifier is not None

    assert (await verifier.verify(signed(claims_for(), rsa_key, "RS256", kid="rsa-1"))).subject == IDENTITY
    assert (await verifier.verify(signed(claims_for(), ec_key, "ES256", kid="ec-1"))).subject == IDENTITY
    fetched = jwks_server.requests
    # Known keys verify without the network, also on the synchronous path.
    assert verifier.verify_now(signed(claims_for(), rsa_key, "RS256", kid="rsa-1")).subject == IDENTITY
    assert jwks_server.requests == fetched

    assert await refusal_code(verifier, signed(claims_for(), rsa_key, "RS256", kid="nobody")) == USER_TOKEN_INVALID
    assert await refusal_code(verifier, signed(claims_for(), rsa_key, "RS256")) == USER_TOKEN_INVALID  # no kid
    # A key listed under one kid cannot vouch for a token another key signed.
    forged = signed(claims_for(), rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", kid="rsa-1")
    assert await refusal_code(verifier, forged) == USER_TOKEN_INVALID
    assert await refusal_code(verifier, signed(claims_for(), SECRET, "HS256", kid="rsa-1")) == USER_TOKEN_INVALID


async def test_an_unreachable_jwks_is_a_503_not_a_401(jwks_server: _JwksServer) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = jwks_server.url
    jwks_server.server.shutdown()
    jwks_server.server.server_close()
    verifier = UserTokenVerifier.jwks(jwt.PyJWKClient(url, timeout=2), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(UserTokenKeysUnavailable) as unavailable:
        await verifier.verify(signed(claims_for(), rsa_key, "RS256", kid="rsa-1"))
    assert (unavailable.value.status, unavailable.value.code) == (503, USER_TOKEN_KEYS_UNAVAILABLE)


# --- Configuration ---------------------------------------------------------------------------------


def test_settings_choose_at_most_one_key_source() -> None:
    assert UserTokenVerifier.from_settings(ServiceSettings()) is None
    assert UserTokenVerifier.from_settings(ServiceSettings.model_validate({"CLEARWAY_USER_TOKEN_SECRET": SECRET}))
    both = {"CLEARWAY_USER_TOKEN_SECRET": SECRET, "CLEARWAY_USER_TOKEN_JWKS_URL": "https://idp.example/jwks"}
    with pytest.raises(ValueError, match="one user token key"):
        UserTokenVerifier.from_settings(ServiceSettings.model_validate(both))
    with pytest.raises(ValueError, match="at least 32 bytes"):
        UserTokenVerifier.from_settings(ServiceSettings.model_validate({"CLEARWAY_USER_TOKEN_SECRET": "short"}))
    with pytest.raises(ValueError, match="PEM"):
        UserTokenVerifier.public_key_pem("-----BEGIN PUBLIC KEY-----\nnope\n", issuer=ISSUER, audience=AUDIENCE)
    p384 = public_pem(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ValueError, match="P-256"):
        UserTokenVerifier.public_key_pem(p384, issuer=ISSUER, audience=AUDIENCE)


def test_the_secret_never_shows_in_the_settings_repr() -> None:
    settings = ServiceSettings.model_validate({"CLEARWAY_USER_TOKEN_SECRET": SECRET})
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_api_keys_and_jwts_are_told_apart_by_shape() -> None:
    assert looks_like_jwt(hs256_token())
    assert not looks_like_jwt("ck_operator_secret")
    assert not looks_like_jwt("abc.def.")  # unsigned
    assert not looks_like_jwt("a.b.c" + "d" * 10_000)


# --- Principals ------------------------------------------------------------------------------------


def make_settings(**overrides: object) -> ServiceSettings:
    keys = [{"name": "olga", "key_sha256": hash_api_key(OPERATOR_KEY), "roles": ["operator"]}]
    values: dict[str, object] = {"CLEARWAY_API_KEYS": json.dumps(keys), "CLEARWAY_USER_TOKEN_SECRET": SECRET}
    values.update(overrides)
    return ServiceSettings.model_validate(values)


def test_an_api_key_cannot_hold_the_user_role() -> None:
    keys = [{"name": "impostor", "key_sha256": "a" * 64, "roles": ["operator", "user"]}]
    with pytest.raises(ValueError, match="end users authenticate with tokens"):
        Authenticator.from_settings(make_settings(CLEARWAY_API_KEYS=json.dumps(keys)))
    lookalike = [{"name": f"user:{IDENTITY}", "key_sha256": "a" * 64, "roles": ["operator"]}]
    with pytest.raises(ValueError, match="may not start with"):
        Authenticator.from_settings(make_settings(CLEARWAY_API_KEYS=json.dumps(lookalike)))


def test_a_user_principal_holds_only_the_user_role() -> None:
    authenticator = Authenticator.from_settings(make_settings())
    principal = authenticator.authenticate_headers({"authorization": f"Bearer {hs256_token()}"})
    assert principal == Principal(name=f"user:{IDENTITY}", roles=frozenset({USER}), user_id=IDENTITY)
    assert principal.is_end_user and principal.has_role(USER) and not principal.has_role("operator")
    assert authenticator.authenticate_headers({"authorization": f"Bearer {hs256_token(secret=OTHER_SECRET)}"}) is None
    operator = authenticator.authenticate_headers({"x-api-key": OPERATOR_KEY})
    assert operator is not None and not operator.is_end_user
    # Admin holds every role, yet is no end user: routes branch on `is_end_user`.
    admin = Principal(name="root", roles=frozenset({"admin"}))
    assert admin.has_role(USER) and not admin.is_end_user


router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, object]:
    return {"name": principal.name, "roles": sorted(principal.roles), "user_id": principal.user_id}


@router.get("/wallet")
async def wallet(principal: Annotated[Principal, Depends(require_roles(USER, "operator"))]) -> dict[str, str]:
    return {"caller": principal.name}


@router.get("/approvals")
async def approvals(principal: Annotated[Principal, Depends(require_roles("approver", "operator"))]) -> dict[str, str]:
    return {"caller": principal.name}


async def _client(settings: ServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_http_app(settings=settings, title="t", version="0", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(make_settings()):
        yield client


async def test_routes_admit_users_only_where_they_list_the_user_role(client: httpx.AsyncClient) -> None:
    bearer = {"Authorization": f"Bearer {hs256_token()}"}
    me_answer = await client.get("/me", headers=bearer)
    assert me_answer.json() == {"name": f"user:{IDENTITY}", "roles": [USER], "user_id": IDENTITY}
    assert (await client.get("/wallet", headers=bearer)).json() == {"caller": f"user:{IDENTITY}"}
    forbidden = await client.get("/approvals", headers=bearer)
    assert forbidden.status_code == 403
    # Operator keys keep working beside tokens.
    assert (await client.get("/wallet", headers={"X-API-Key": OPERATOR_KEY})).json() == {"caller": "olga"}
    assert (await client.get("/approvals", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})).status_code == 200


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (hs256_token(issued_at=int(time.time()) - 7_200), USER_TOKEN_EXPIRED),
        (hs256_token(secret=OTHER_SECRET), USER_TOKEN_INVALID),
    ],
    ids=["expired", "wrong-signature"],
)
async def test_a_bad_token_is_a_401_problem_without_the_token(client: httpx.AsyncClient, token: str, code: str) -> None:
    response = await client.get("/wallet", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert token not in response.text


async def test_without_a_configured_key_user_tokens_are_not_accepted() -> None:
    async for client in _client(make_settings(CLEARWAY_USER_TOKEN_SECRET=None)):
        response = await client.get("/me", headers={"Authorization": f"Bearer {hs256_token()}"})
        assert (response.status_code, response.json()["code"]) == (401, "UNAUTHENTICATED")
        assert (await client.get("/me", headers={"X-API-Key": OPERATOR_KEY})).status_code == 200


async def test_docs_show_user_tokens_beside_api_keys(client: httpx.AsyncClient) -> None:
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKeyBearer", "UserToken", "ApiKey", "BlnkKey"}
    assert (schemes["UserToken"]["scheme"], schemes["UserToken"]["bearerFormat"]) == ("bearer", "JWT")
    assert (schemes["ApiKey"]["name"], schemes["BlnkKey"]["name"]) == ("X-API-Key", "X-Blnk-Key")


async def test_docs_name_the_ways_to_authenticate_on_authenticated_operations_only(client: httpx.AsyncClient) -> None:
    # The schemes are documented from the routes' dependencies, not solved as dependencies.
    paths = (await client.get("/openapi.json")).json()["paths"]
    every_way: list[dict[str, list[str]]] = [{"ApiKeyBearer": []}, {"UserToken": []}, {"ApiKey": []}, {"BlnkKey": []}]
    assert paths["/me"]["get"]["security"] == every_way  # CurrentPrincipal
    assert paths["/wallet"]["get"]["security"] == every_way  # require_roles
    assert "security" not in paths["/health/live"]["get"]


async def test_a_route_with_two_authenticating_dependencies_authenticates_once() -> None:
    calls: list[str] = []
    twice = APIRouter()

    @twice.get("/both")
    async def both(
        principal: CurrentPrincipal, approver: Annotated[Principal, Depends(require_roles("operator"))]
    ) -> dict[str, bool]:
        return {"same": principal is approver}

    app = create_http_app(settings=make_settings(), title="t", version="0", routers=[twice])
    authenticator: Authenticator = app.state.authenticator
    principal_for = authenticator.principal_for

    async def counting(headers: Any) -> Principal:
        calls.append("principal_for")
        return await principal_for(headers)

    authenticator.principal_for = counting  # type: ignore[method-assign]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/both", headers={"X-API-Key": OPERATOR_KEY})
    assert (response.status_code, response.json(), calls) == (200, {"same": True}, ["principal_for"])


async def test_a_principal_in_the_lifespan_state_is_not_taken_for_the_caller() -> None:
    # Servers copy lifespan state into every request's scope["state"]: a principal there must not
    # authenticate anybody. Only what `current_principal` resolved from this request's headers counts.
    app = create_http_app(settings=make_settings(), title="t", version="0", routers=[router])
    admin = Principal(name="root", roles=frozenset({"admin"}))
    scope = {"type": "http", "method": "GET", "path": "/me", "headers": [], "app": app, "state": {"principal": admin}}
    with pytest.raises(Unauthorized):
        await current_principal(Request(scope))
