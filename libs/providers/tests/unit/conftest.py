"""Shared fakes for provider unit tests: Daraja settings and an in-memory Daraja server."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

import httpx
import pytest

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import DarajaClient, DarajaSettings

CONSUMER_KEY = "ck-test-consumer-key"
CONSUMER_SECRET = "cs-test-consumer-secret-value"
# Safaricom's published sandbox shortcode and passkey (public test credentials).
SHORT_CODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
CALLBACK_TOKEN = "cbtok_0123456789abcdef"


def daraja_settings(**overrides: object) -> DarajaSettings:
    values: dict[str, object] = {
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "business_short_code": SHORT_CODE,
        "passkey": PASSKEY,
        "callback_url": "https://funding.example.test/callbacks/mpesa/{callback_token}",
        "callback_token": CALLBACK_TOKEN,
        "retry_attempts_max": 3,
        "retry_backoff_ms": 100,
        "retry_backoff_max_ms": 1_000,
    }
    values.update(overrides)
    return DarajaSettings(**values)  # type: ignore[arg-type]


def json_response(status_code: int, body: object) -> httpx.Response:
    return httpx.Response(status_code, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


class FakeDaraja:
    """Answers like Daraja: queued answers per path first, then a default success."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.queued: dict[str, list[httpx.Response | Exception]] = defaultdict(list)
        self.tokens_issued = 0
        self.expires_in = "3599"

    def queue(self, path: str, *answers: httpx.Response | Exception) -> None:
        self.queued[path].extend(answers)

    def requests_to(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.queued[request.url.path]:
            answer = self.queued[request.url.path].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if request.url.path == "/oauth/v1/generate":
            self.tokens_issued += 1
            return json_response(200, {"access_token": f"token-{self.tokens_issued}", "expires_in": self.expires_in})
        if request.url.path == "/mpesa/stkpush/v1/processrequest":
            return json_response(
                200,
                {
                    "MerchantRequestID": "29115-34620561-1",
                    "CheckoutRequestID": "ws_CO_191220191020363925",
                    "ResponseCode": "0",
                    "ResponseDescription": "Success. Request accepted for processing",
                    "CustomerMessage": "Success. Request accepted for processing",
                },
            )
        if request.url.path == "/mpesa/stkpushquery/v1/query":
            return json_response(200, query_answer("0", "The service request is processed successfully."))
        return json_response(404, {"errorCode": "404.001.01", "errorMessage": "Resource not found"})


def query_answer(result_code: str, result_desc: str) -> dict[str, str]:
    return {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",
        "MerchantRequestID": "22205-34066-1",
        "CheckoutRequestID": "ws_CO_13012021093521236557",
        "ResultCode": result_code,
        "ResultDesc": result_desc,
    }


class RecordingSleep:
    def __init__(self) -> None:
        self.delays_s: list[float] = []

    async def __call__(self, delay_s: float) -> None:
        self.delays_s.append(delay_s)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 1, 1, 9, 30, 5, tzinfo=UTC))


@pytest.fixture
def fake_daraja() -> FakeDaraja:
    return FakeDaraja()


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def daraja(fake_daraja: FakeDaraja, clock: ManualClock, recording_sleep: RecordingSleep) -> DarajaClient:
    client = DarajaClient(
        daraja_settings(), transport=httpx.MockTransport(fake_daraja.handler), clock=clock, sleep=recording_sleep
    )
    yield client  # type: ignore[misc]
    await client.aclose()
