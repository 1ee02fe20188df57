"""`platform.user_token(...)` against real service processes: every service is given the stack's secret."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from clearway.devstack.stack import Platform, start_platform

pytestmark = pytest.mark.integration

TOPUPS = "/api/v1/payments/top-ups"


@pytest.fixture(scope="module")
def platform(
    postgres_server_url: str, kafka_bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    started = start_platform(
        postgres_server_url=postgres_server_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        services=("ledger", "funding"),
        work_dir=Path(tmp_path_factory.mktemp("user-token-platform")),
        consumer_group_prefix=f"usertok-{secrets.token_hex(4)}.",
        stream_logs=False,
    )
    try:
        yield started
    finally:
        started.stop()
        started.drop_databases()


@pytest_asyncio.fixture(loop_scope="session")
async def identity(platform: Platform) -> AsyncIterator[str]:
    async with httpx.AsyncClient(base_url=platform.url("ledger"), headers={"X-API-Key": platform.api_key}) as ledger:
        response = await ledger.post("/identities", json={"identity_type": "individual", "first_name": "Zawadi"})
        assert response.status_code == 201, response.text
        yield response.json()["identity_id"]


async def test_a_minted_token_starts_and_reads_a_top_up_in_a_running_service(platform: Platform, identity: str) -> None:
    assert platform.user_token_secret
    headers = {"Authorization": f"Bearer {platform.user_token(identity)}"}
    async with httpx.AsyncClient(base_url=platform.url("funding"), headers=headers) as funding:
        started = await funding.post(
            TOPUPS,
            json={"amount_minor": 1_000, "phone_number": "0712 345 678"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert started.status_code == 201, started.text
        assert started.json()["identity_id"] == identity
        assert (await funding.get(f"{TOPUPS}/{started.json()['id']}")).status_code == 200
    async with httpx.AsyncClient(
        base_url=platform.url("funding"), headers={"Authorization": f"Bearer {platform.user_token('idt_other')}"}
    ) as other:
        assert (await other.get(f"{TOPUPS}/{started.json()['id']}")).status_code == 404
    expired = platform.user_token(identity, ttl_s=-120)
    async with httpx.AsyncClient(base_url=platform.url("funding")) as anonymous:
        response = await anonymous.get(f"{TOPUPS}/top_x", headers={"Authorization": f"Bearer {expired}"})
        assert (response.status_code, response.json()["code"]) == (401, "USER_TOKEN_EXPIRED")
