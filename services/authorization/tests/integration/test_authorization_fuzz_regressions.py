"""Defects `make fuzz` found in authorization's HTTP API, each pinned by the request that found it."""

from __future__ import annotations

import uuid

import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.devstack.testing import RunningApp

pytestmark = pytest.mark.integration

AUTHORIZATION = {
    "authorization_id": "0",
    "card_id": "0",
    "amount_minor": 0,
    "channel": "atm",
    "merchant_category_code": "0000",
    "merchant_name": "",
    "requested_at": "2000-01-01T00:00:00Z",
}
CLEARING = {
    "clearing_id": "0",
    "card_id": "0",
    "amount_minor": 1,
    "currency": "USD",
    "merchant_category_code": "0000",
    "merchant_name": "",
    "cleared_at": "2000-01-01T00:00:00Z",
}


@pytest.mark.parametrize("currency", ["000", "crd", "ªÔ}"])
async def test_an_authorization_in_a_malformed_currency_is_a_400_not_a_500(
    currency: str,
    running_authorization: RunningApp[AuthorizationSettings],
    authorization_settings: AuthorizationSettings,
) -> None:
    """It passed the HTTP schema (any three characters) and failed in the `card.authorization.decided`
    event builder, whose contract wants three upper-case letters."""
    async with running_authorization(authorization_settings) as client:
        answer = await client.post("/authorizations", json={**AUTHORIZATION, "currency": currency})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_clearing_in_a_malformed_currency_is_a_400_not_a_500(
    running_authorization: RunningApp[AuthorizationSettings], authorization_settings: AuthorizationSettings
) -> None:
    async with running_authorization(authorization_settings) as client:
        answer = await client.post("/clearings", json={**CLEARING, "currency": "000"})
    assert answer.status_code == 400, answer.text


async def test_a_statement_number_beyond_a_postgres_integer_is_a_400_not_a_500(
    running_authorization: RunningApp[AuthorizationSettings], authorization_settings: AuthorizationSettings
) -> None:
    async with running_authorization(authorization_settings) as client:
        one = await client.get("/card-accounts/cac_nosuch/statements/5163269330")
        page = await client.get("/card-accounts/cac_nosuch/statements", params={"starting_after": 5163269330})
    assert (one.status_code, page.status_code) == (400, 400), (one.text, page.text)
    assert one.headers["content-type"] == "application/problem+json"


async def test_a_clearing_for_an_unknown_card_is_a_documented_404(
    running_authorization: RunningApp[AuthorizationSettings], authorization_settings: AuthorizationSettings
) -> None:
    async with running_authorization(authorization_settings) as client:
        answer = await client.post("/clearings", json=CLEARING)
        document = (await client.get("/openapi.json")).json()
    assert (answer.status_code, answer.json()["code"]) == (404, "CARD_NOT_FOUND"), answer.text
    documented = document["paths"]["/clearings"]["post"]["responses"]
    assert "application/problem+json" in documented["404"]["content"]


async def test_an_authorization_amount_beyond_the_money_maximum_is_a_400_not_a_500(
    running_authorization: RunningApp[AuthorizationSettings], authorization_settings: AuthorizationSettings
) -> None:
    """An unbounded integer reached PostgreSQL's bigint column and failed there."""
    body = {**AUTHORIZATION, "currency": "USD", "amount_minor": 155516152545832861696}
    async with running_authorization(authorization_settings) as client:
        answer = await client.post("/authorizations", json=body)
    assert answer.status_code == 400, answer.text


async def test_the_same_authorization_again_is_a_documented_200(
    running_authorization: RunningApp[AuthorizationSettings], authorization_settings: AuthorizationSettings
) -> None:
    """The replay of a processor id answers 200 with the first decision; the OpenAPI said only 201."""
    body = {**AUTHORIZATION, "currency": "USD", "authorization_id": f"fuzz-replay-{uuid.uuid4().hex}"}
    async with running_authorization(authorization_settings) as client:
        first = await client.post("/authorizations", json=body)
        again = await client.post("/authorizations", json=body)
        document = (await client.get("/openapi.json")).json()
    assert (first.status_code, again.status_code) == (201, 200), (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]
    for path in ("/authorizations", "/clearings"):
        assert "200" in document["paths"][path]["post"]["responses"], path


@pytest.mark.parametrize("business_date", ["0001-01-01", "9999-12-31"])
async def test_a_job_for_a_business_date_beyond_the_calendar_arithmetic_is_a_400_not_a_500(
    business_date: str,
    running_authorization: RunningApp[AuthorizationSettings],
    authorization_settings: AuthorizationSettings,
) -> None:
    """`POST /admin/jobs/expire-authorizations {"business_date": "0001-01-01"}` was a 500: the job's
    days back ran below Python's first date."""
    async with running_authorization(authorization_settings) as client:
        answer = await client.post("/admin/jobs/expire-authorizations", json={"business_date": business_date})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
