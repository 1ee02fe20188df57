"""Daraja token caching, retries (idempotent calls only), status answers and secret hygiene."""

from __future__ import annotations

import httpx
import pytest
from structlog.testing import capture_logs

from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    AccessTokenUnavailable,
    DarajaClient,
    DarajaSettings,
    ProviderAuthenticationFailed,
    ProviderRejected,
    ProviderUnavailable,
    ResultCode,
    StkFailed,
    StkPending,
    StkPushOutcomeUnknown,
    StkPushRequest,
    StkSucceeded,
)
from clearway.providers.mobile_money.daraja.client import STK_PUSH_PATH, STK_QUERY_PATH, TOKEN_PATH
from clearway.providers.mobile_money.testing import FakeDarajaServer, daraja_json, daraja_query_answer

CHECKOUT = "ws_CO_13012021093521236557"
UNAVAILABLE = {"requestId": "r-1", "errorCode": "503.001.01", "errorMessage": "Service Unavailable"}
PUSH = StkPushRequest(
    phone="+254712345678", amount_minor=10_000, currency="KES", account_reference="TOPUP1", description="Top up"
)


async def test_token_is_cached_until_shortly_before_expiry(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, clock: ManualClock
) -> None:
    assert await daraja.access_token() == "token-1"
    await daraja.query_stk_status(CHECKOUT)
    await daraja.initiate_stk_push(PUSH)
    assert fake_daraja.tokens_issued == 1

    # Daraja says 3599 s; the client refreshes 60 s (token_refresh_margin_ms) early.
    clock.advance(ms=3_538_000)
    assert await daraja.access_token() == "token-1"
    clock.advance(ms=2_000)
    assert await daraja.access_token() == "token-2"
    assert fake_daraja.tokens_issued == 2


async def test_refused_token_is_refreshed_once_and_the_call_resent(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    fake_daraja.queue(
        STK_PUSH_PATH, daraja_json(401, {"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"})
    )
    await daraja.initiate_stk_push(PUSH)
    pushes = fake_daraja.requests_to(STK_PUSH_PATH)
    assert [push.headers["authorization"] for push in pushes] == ["Bearer token-1", "Bearer token-2"]


async def test_token_call_is_retried_on_5xx_and_network_errors(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, recording_sleep: object
) -> None:
    fake_daraja.queue(TOKEN_PATH, daraja_json(503, UNAVAILABLE), httpx.ConnectError("refused"))
    assert await daraja.access_token() == "token-1"
    assert len(fake_daraja.requests_to(TOKEN_PATH)) == 3


async def test_token_call_gives_up_after_bounded_attempts(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(TOKEN_PATH, *[daraja_json(500, UNAVAILABLE)] * 5)
    with pytest.raises(AccessTokenUnavailable):
        await daraja.query_stk_status(CHECKOUT)
    # Token attempts are not multiplied by query attempts.
    assert len(fake_daraja.requests_to(TOKEN_PATH)) == 3
    assert fake_daraja.requests_to(STK_QUERY_PATH) == []


async def test_bad_consumer_credentials_are_not_retried(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(
        TOKEN_PATH, daraja_json(400, {"errorCode": "400.008.01", "errorMessage": "Invalid Authentication"})
    )
    with pytest.raises(ProviderAuthenticationFailed):
        await daraja.access_token()
    assert len(fake_daraja.requests_to(TOKEN_PATH)) == 1


async def test_status_query_is_retried_on_503_with_backoff(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, recording_sleep: object
) -> None:
    fake_daraja.queue(STK_QUERY_PATH, daraja_json(503, UNAVAILABLE), httpx.ReadTimeout("slow"))
    status = await daraja.query_stk_status(CHECKOUT)
    assert status == StkSucceeded(checkout_request_id=CHECKOUT, currency="KES")
    assert len(fake_daraja.requests_to(STK_QUERY_PATH)) == 3
    assert recording_sleep.delays_s == [0.1, 0.2]  # type: ignore[attr-defined]


async def test_status_query_gives_up_after_retry_attempts_max(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    fake_daraja.queue(STK_QUERY_PATH, *[daraja_json(503, UNAVAILABLE)] * 5)
    with pytest.raises(ProviderUnavailable):
        await daraja.query_stk_status(CHECKOUT)
    assert len(fake_daraja.requests_to(STK_QUERY_PATH)) == 3


async def test_stk_push_is_never_retried_on_503(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, recording_sleep: object
) -> None:
    fake_daraja.queue(STK_PUSH_PATH, daraja_json(503, UNAVAILABLE))
    with pytest.raises(ProviderUnavailable):
        await daraja.initiate_stk_push(PUSH)
    assert len(fake_daraja.requests_to(STK_PUSH_PATH)) == 1
    assert recording_sleep.delays_s == []  # type: ignore[attr-defined]


async def test_stk_push_without_an_answer_has_an_unknown_outcome(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    fake_daraja.queue(STK_PUSH_PATH, httpx.ReadTimeout("no answer"))
    with pytest.raises(StkPushOutcomeUnknown) as raised:
        await daraja.initiate_stk_push(PUSH)
    assert not raised.value.retryable
    assert len(fake_daraja.requests_to(STK_PUSH_PATH)) == 1


async def test_stk_push_that_never_left_is_unavailable(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(STK_PUSH_PATH, httpx.ConnectError("refused"))
    with pytest.raises(ProviderUnavailable):
        await daraja.initiate_stk_push(PUSH)


async def test_stk_push_refusal_carries_daraja_error_code(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(
        STK_PUSH_PATH,
        daraja_json(
            400, {"requestId": "1", "errorCode": "400.002.02", "errorMessage": "Bad Request - Invalid PhoneNumber"}
        ),
    )
    with pytest.raises(ProviderRejected) as raised:
        await daraja.initiate_stk_push(PUSH)
    assert raised.value.provider_code == "400.002.02"


async def test_query_while_customer_has_not_answered_is_pending_not_retried(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer
) -> None:
    fake_daraja.queue(
        STK_QUERY_PATH,
        daraja_json(
            500,
            {"requestId": CHECKOUT, "errorCode": "500.001.1001", "errorMessage": "The transaction is being processed"},
        ),
    )
    assert await daraja.query_stk_status(CHECKOUT) == StkPending(CHECKOUT, "The transaction is being processed")
    assert len(fake_daraja.requests_to(STK_QUERY_PATH)) == 1


@pytest.mark.parametrize(
    ("result_code", "description"),
    [
        ("1032", "Request cancelled by user"),
        ("1037", "DS timeout user cannot be reached"),
        ("1", "The balance is insufficient for the transaction"),
        ("2001", "The initiator information is invalid."),
    ],
)
async def test_query_failures_map_to_failed_status(
    daraja: DarajaClient, fake_daraja: FakeDarajaServer, result_code: str, description: str
) -> None:
    fake_daraja.queue(STK_QUERY_PATH, daraja_json(200, daraja_query_answer(result_code, description, CHECKOUT)))
    status = await daraja.query_stk_status(CHECKOUT)
    assert status == StkFailed(CHECKOUT, ResultCode(int(result_code)), description)


async def test_query_still_processing_code_is_pending(daraja: DarajaClient, fake_daraja: FakeDarajaServer) -> None:
    fake_daraja.queue(STK_QUERY_PATH, daraja_json(200, daraja_query_answer("4999", "still under processing", CHECKOUT)))
    assert isinstance(await daraja.query_stk_status(CHECKOUT), StkPending)


async def test_secrets_never_reach_logs_or_errors(
    settings: DarajaSettings, fake_daraja: FakeDarajaServer, clock: ManualClock
) -> None:
    secrets = [
        settings.consumer_secret.get_secret_value(),
        settings.consumer_key.get_secret_value(),
        settings.passkey.get_secret_value(),
        settings.callback_token.get_secret_value(),
        "token-1",
        "token-2",
    ]
    fake_daraja.queue(STK_PUSH_PATH, daraja_json(401, {}), daraja_json(400, {"errorMessage": "Invalid"}))
    fake_daraja.queue(STK_QUERY_PATH, daraja_json(503, UNAVAILABLE))
    errors: list[str] = []

    async def sleep(_delay_s: float) -> None:
        return None

    with capture_logs() as logs:
        async with DarajaClient(
            settings, transport=httpx.MockTransport(fake_daraja.handler), clock=clock, sleep=sleep
        ) as client:
            try:
                await client.initiate_stk_push(PUSH)
            except ProviderRejected as error:
                errors.append(repr(error) + error.message)
            await client.query_stk_status(CHECKOUT)
            await client.initiate_stk_push(PUSH)
            errors.append(repr(client.__dict__))
    assert logs, "the client logs what it does"
    written = repr(logs) + "".join(errors)
    leaked = [secret for secret in secrets if secret in written]
    assert leaked == []
    assert "+254712345678" not in repr(logs), "phone numbers are logged masked"
