"""Fixtures for provider unit tests: Daraja settings, a fake Daraja server, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import DarajaClient, DarajaSettings
from clearway.providers.mobile_money.testing import FakeDarajaServer


class RecordingSleep:
    """Stands in for asyncio.sleep in retries: records the backoff, waits for nothing."""

    def __init__(self) -> None:
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


@pytest.fixture
def settings() -> DarajaSettings:
    return DarajaSettings(
        consumer_key="ck-test-consumer-key",
        consumer_secret="cs-test-consumer-secret-value",
        business_short_code="174379",
        # Safaricom's published sandbox passkey (a public test credential).
        passkey="bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
        callback_url="https://funding.example.test/callbacks/mpesa/{callback_token}",
        callback_token="cbtok_0123456789abcdef",
        retry_attempts_max=3,
        retry_backoff_ms=100,
        retry_backoff_max_ms=1_000,
    )


@pytest.fixture
def clock() -> ManualClock:
    # 09:30:05 UTC is 12:30:05 in Nairobi (EAT, UTC+3).
    return ManualClock(datetime(2025, 1, 1, 9, 30, 5, tzinfo=UTC))


@pytest.fixture
def fake_daraja() -> FakeDarajaServer:
    return FakeDarajaServer()


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def daraja(
    settings: DarajaSettings, fake_daraja: FakeDarajaServer, clock: ManualClock, recording_sleep: RecordingSleep
) -> AsyncIterator[DarajaClient]:
    client = DarajaClient(
        settings, transport=httpx.MockTransport(fake_daraja.handler), clock=clock, sleep=recording_sleep
    )
    yield client
    await client.aclose()
