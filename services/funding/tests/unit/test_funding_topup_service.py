"""Top-up use cases over in-memory fakes and the real sandbox provider on a manual clock (no I/O)."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx
import pytest
import pytest_asyncio
import structlog
from pydantic import BaseModel

from clearway.funding.config import FundingSettings
from clearway.funding.domain.topups import (
    ConflictingOutcome,
    Delivery,
    IdempotencyKeyReused,
    ResolvedBy,
    Topup,
    TopupRefused,
    TopupStatus,
    UnknownCheckout,
)
from clearway.funding.entrypoints.http_topups import CallbackTokenRedactor, get_topup_service, redact_callback_tokens
from clearway.funding.main import create_app
from clearway.funding.service.topup_outcomes import outcome_of_status
from clearway.funding.service.topup_ports import LedgerUnavailable, WalletCredit, WalletOwnerUnknown
from clearway.funding.service.topups import TopupPolicy, TopupRequest, TopupService
from clearway.platform.auth import hash_api_key
from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    CallbackInvalid,
    CallbackRejected,
    DarajaClient,
    DarajaSettings,
    ProviderUnavailable,
    ResultCode,
    SandboxOutcome,
    SandboxProvider,
    StkFailed,
    StkPushAccepted,
    StkPushOutcomeUnknown,
    StkPushRequest,
    StkStatus,
)
from clearway.providers.mobile_money.daraja import build_daraja_stk_callback
from clearway.providers.mobile_money.testing import FakeDarajaServer

TOKEN = "callback-token-0123456789"
PHONE = "0712 345 678"
PHONE_E164 = "+254712345678"
OWNER = "idt_owner"


class FakeTopupStore:
    def __init__(self) -> None:
        self.rows: dict[str, Topup] = {}
        self.events: list[tuple[str, str, BaseModel]] = []


class FakeTopups:
    def __init__(self, store: FakeTopupStore) -> None:
        self.store = store

    async def add(self, topup: Topup) -> bool:
        if await self.get_by_idempotency_key(topup.workspace_id, topup.idempotency_key) is not None:
            return False
        self.store.rows[topup.id] = topup
        return True

    async def get(self, topup_id: str) -> Topup | None:
        return self.store.rows.get(topup_id)

    async def get_by_idempotency_key(self, workspace_id: str, idempotency_key: str) -> Topup | None:
        found = [
            t
            for t in self.store.rows.values()
            if (t.workspace_id, t.idempotency_key) == (workspace_id, idempotency_key)
        ]
        return found[0] if found else None

    async def get_by_checkout_request_id(self, checkout_request_id: str, *, for_update: bool) -> Topup | None:
        found = [t for t in self.store.rows.values() if t.checkout_request_id == checkout_request_id]
        return found[0] if found else None

    async def get_for_update(self, topup_id: str) -> Topup | None:
        return self.store.rows.get(topup_id)

    async def update(self, topup: Topup) -> None:
        assert topup.id in self.store.rows
        self.store.rows[topup.id] = topup

    async def lock_due_for_status_check(self, now: datetime, limit: int) -> Sequence[Topup]:
        due = [
            t
            for t in self.store.rows.values()
            if t.status is TopupStatus.PENDING and t.next_status_check_at is not None and t.next_status_check_at <= now
        ]
        return sorted(due, key=lambda t: t.next_status_check_at or now)[:limit]


class FakeEvents:
    def __init__(self, store: FakeTopupStore) -> None:
        self.store = store

    async def publish(self, topic: str, key: str, event: BaseModel) -> None:
        self.store.events.append((topic, key, event))


class FakeTopupUnitOfWork:
    """Changes survive only if `commit()` was called, as with a transaction."""

    def __init__(self, store: FakeTopupStore) -> None:
        self.store = store
        self.topups = FakeTopups(store)
        self.events = FakeEvents(store)
        self._snapshot: tuple[dict[str, Topup], list[tuple[str, str, BaseModel]]] | None = None

    async def __aenter__(self) -> Self:
        self._snapshot = (dict(self.store.rows), copy.copy(self.store.events))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._snapshot is not None
        self.store.rows, self.store.events = self._snapshot
        self._snapshot = None

    async def commit(self) -> None:
        self._snapshot = (dict(self.store.rows), copy.copy(self.store.events))


class FakeLedger:
    """Get-or-create wallets and reference-idempotent credits, like the ledger."""

    def __init__(self) -> None:
        self.identities = {OWNER}
        self.wallets: dict[tuple[str, str], str] = {}
        self.credits: dict[str, WalletCredit] = {}
        self.credit_calls = 0
        self.unavailable = False

    async def ensure_wallet(self, identity_id: str, currency: str) -> str:
        if self.unavailable:
            raise LedgerUnavailable("down")
        if identity_id not in self.identities:
            raise WalletOwnerUnknown(f"no identity {identity_id}")
        return self.wallets.setdefault((identity_id, currency), f"bln_{len(self.wallets) + 1}")

    async def credit_wallet(self, credit: WalletCredit) -> str:
        self.credit_calls += 1
        if self.unavailable:
            raise LedgerUnavailable("down")
        assert self.credits.get(credit.reference, credit) == credit, "same reference, other payload"
        self.credits[credit.reference] = credit
        return f"txn_{credit.reference}"

    def balance_of(self, balance_id: str) -> int:
        return sum(c.amount_minor for c in self.credits.values() if c.destination_balance_id == balance_id)


class Harness:
    def __init__(self) -> None:
        self.clock = ManualClock(datetime(2025, 1, 1, 12, tzinfo=UTC))
        self.store = FakeTopupStore()
        self.ledger = FakeLedger()
        self.sandbox = SandboxProvider(clock=self.clock, callback_token=TOKEN)
        self.service = TopupService(
            unit_of_work=lambda: FakeTopupUnitOfWork(self.store),
            provider=self.sandbox,
            ledger=self.ledger,
            policy=TopupPolicy(status_query_after_ms=30_000, status_query_interval_ms=10_000, status_queries_max=3),
            clock=self.clock,
        )
        self.deliveries: list[Delivery | None] = []

        async def deliver(body: bytes) -> None:
            self.deliveries.append(await self.service.handle_callback(TOKEN, body, {}))

        self.sandbox.set_deliver(deliver)

    async def start(self, key: str = "key-1", amount_minor: int = 150_000, **changes: object) -> Topup:
        fields: dict[str, object] = {
            "workspace_id": "default",
            "identity_id": OWNER,
            "amount_minor": amount_minor,
            "currency": None,
            "phone_number": PHONE,
            "idempotency_key": key,
        }
        fields.update(changes)
        return (await self.service.start(TopupRequest(**fields))).topup  # type: ignore[arg-type]

    def events(self, topic: str) -> list[BaseModel]:
        return [event for name, _key, event in self.store.events if name == topic]


@pytest.fixture
def harness() -> Harness:
    return Harness()


async def test_start_pushes_once_and_keeps_the_intent_pending(harness: Harness) -> None:
    topup = await harness.start()
    assert topup.id.startswith("top_") and topup.status is TopupStatus.PENDING
    assert (topup.phone, topup.currency, topup.provider) == (PHONE_E164, "KES", "sandbox")
    (request,) = harness.sandbox.requests()
    assert topup.checkout_request_id == request.checkout_request_id and request.checkout_request_id.startswith("ws_CO_")
    assert (request.amount_minor, request.account_reference) == (150_000, topup.account_reference)
    assert len(topup.account_reference) == 12 and topup.account_reference.isalnum()  # M-Pesa's limit
    assert harness.store.rows[topup.id] == topup


async def test_success_credits_the_wallet_once_and_announces_it(harness: Harness) -> None:
    topup = await harness.start()
    assert await harness.sandbox.deliver_due() == 1
    settled = harness.store.rows[topup.id]
    assert settled.status is TopupStatus.SUCCEEDED and settled.resolved_by is ResolvedBy.CALLBACK
    (request,) = harness.sandbox.requests()
    assert settled.receipt == request.receipt and settled.ledger_reference == f"topup:{topup.id}"
    credit = harness.ledger.credits[f"topup:{topup.id}"]
    assert (credit.source, credit.destination_balance_id) == ("@MobileMoney-sandbox-KES", topup.wallet_balance_id)
    (event,) = harness.events("topup.succeeded")
    assert event.model_dump()["phone_masked"] == "+254******678"


async def test_a_duplicate_callback_has_no_second_effect(harness: Harness) -> None:
    topup = await harness.start()
    await harness.sandbox.deliver_due()
    assert await harness.sandbox.redeliver(topup.checkout_request_id or "") is True
    assert harness.deliveries == [Delivery.APPLY, Delivery.DUPLICATE]
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000
    assert harness.ledger.credit_calls == 1
    assert len(harness.events("topup.succeeded")) == 1


@pytest.mark.parametrize(
    ("outcome", "code", "reason"),
    [(SandboxOutcome.DECLINE, 1032, "cancelled_by_user"), (SandboxOutcome.TIMEOUT, 1037, "unreachable")],
)
async def test_a_declined_or_unanswered_prompt_fails_the_top_up(
    harness: Harness, outcome: SandboxOutcome, code: int, reason: str
) -> None:
    harness.sandbox.set_phone_scenario(PHONE_E164, outcome)
    topup = await harness.start()
    await harness.sandbox.deliver_due()
    failed = harness.store.rows[topup.id]
    assert (failed.status, failed.result_code, failed.failure_reason) == (TopupStatus.FAILED, code, reason)
    assert harness.ledger.credits == {}
    (event,) = harness.events("topup.failed")
    assert event.model_dump()["result_code"] == code
    # The same failure delivered again changes nothing.
    await harness.sandbox.redeliver(topup.checkout_request_id or "")
    assert harness.deliveries[-1] is Delivery.DUPLICATE and len(harness.events("topup.failed")) == 1


async def test_a_lost_callback_is_resolved_by_a_status_query_after_the_timeout(harness: Harness) -> None:
    harness.sandbox.queue_next_scenario(SandboxOutcome.LOST_CALLBACK, delay_ms=5_000)
    topup = await harness.start()
    assert await harness.sandbox.deliver_due() == 0
    harness.clock.advance(ms=29_999)
    assert (await harness.service.resolve_due(10)).checked == 0  # not overdue yet
    harness.clock.advance(ms=1)
    report = await harness.service.resolve_due(10)
    assert (report.checked, report.settled) == (1, 1)
    settled = harness.store.rows[topup.id]
    assert settled.status is TopupStatus.SUCCEEDED and settled.resolved_by is ResolvedBy.STATUS_QUERY
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000
    # A late callback for the same payment agrees with the query's answer: acknowledged, no effect.
    await harness.sandbox.redeliver(topup.checkout_request_id or "")
    assert harness.deliveries == [Delivery.DUPLICATE] and harness.ledger.balance_of(topup.wallet_balance_id) == 150_000


async def test_a_still_pending_status_is_asked_again_within_the_budget(harness: Harness) -> None:
    harness.sandbox.queue_next_scenario(SandboxOutcome.LOST_CALLBACK, delay_ms=600_000)
    topup = await harness.start()
    for _check in range(3):
        harness.clock.advance(ms=30_000)
        report = await harness.service.resolve_due(10)
        assert (report.checked, report.still_pending) == (1, 1)
    harness.clock.advance(ms=600_000)
    assert (await harness.service.resolve_due(10)).checked == 0  # budget spent: left for reconciliation
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING
    assert harness.store.rows[topup.id].status_checks == 3


async def test_the_same_key_returns_the_same_intent_and_pushes_once(harness: Harness) -> None:
    first = await harness.start()
    again = await harness.service.start(
        TopupRequest("default", OWNER, 150_000, "KES", "+254712345678", idempotency_key="key-1")
    )
    assert again.created is False and again.topup == first
    assert len(harness.sandbox.requests()) == 1
    with pytest.raises(IdempotencyKeyReused):
        await harness.start(amount_minor=200_000)


async def test_requests_the_rail_cannot_take_are_refused_before_anything_happens(harness: Harness) -> None:
    with pytest.raises(TopupRefused) as unsupported:
        await harness.start(currency="USD")
    assert unsupported.value.code == "CURRENCY_NOT_SUPPORTED"
    with pytest.raises(TopupRefused) as bad_phone:
        await harness.start(phone_number="12")
    assert bad_phone.value.code == "INVALID_PHONE_NUMBER"
    with pytest.raises(TopupRefused) as unknown_owner:
        await harness.start(identity_id="idt_nobody")
    assert unknown_owner.value.code == "WALLET_OWNER_UNKNOWN"
    with pytest.raises(TopupRefused) as no_owner:
        await harness.start(identity_id=None)
    assert no_owner.value.code == "IDENTITY_REQUIRED"
    assert harness.store.rows == {} and harness.sandbox.requests() == []


async def test_the_workspace_wallet_is_the_default_owner() -> None:
    harness = Harness()

    async def workspace_identity(workspace_id: str) -> str:
        assert workspace_id == "default"
        return OWNER

    harness.service.workspace_identity = workspace_identity
    assert (await harness.start(identity_id=None)).identity_id == OWNER


async def test_m_pesa_rules_refuse_cents_after_recording_the_attempt(harness: Harness) -> None:
    with pytest.raises(TopupRefused) as refused:
        await harness.start(amount_minor=150_050)
    assert refused.value.code == "INVALID_STK_PUSH_REQUEST"
    (failed,) = harness.store.rows.values()
    assert failed.status is TopupStatus.FAILED and failed.resolved_by is ResolvedBy.PUSH


class BrokenProvider(SandboxProvider):
    def __init__(self, error: Exception) -> None:
        super().__init__(callback_token=TOKEN)
        self.error = error

    async def initiate_stk_push(self, request: StkPushRequest) -> StkPushAccepted:
        raise self.error

    async def query_stk_status(self, checkout_request_id: str) -> StkStatus:
        raise AssertionError("nothing to query")


async def test_a_provider_outage_fails_the_intent_and_an_unknown_outcome_keeps_it_pending(harness: Harness) -> None:
    harness.service.provider = BrokenProvider(ProviderUnavailable("down"))
    failed = await harness.start(key="k-down")
    assert (failed.status, failed.failure_reason) == (TopupStatus.FAILED, "provider_unavailable")
    assert len(harness.events("topup.failed")) == 1

    harness.service.provider = BrokenProvider(StkPushOutcomeUnknown("no answer"))
    unknown = await harness.start(key="k-unknown")
    assert unknown.status is TopupStatus.PENDING and unknown.checkout_request_id is None
    harness.clock.advance(ms=30_000)
    report = await harness.service.resolve_due(10)
    assert (report.checked, report.given_up) == (0, 1)  # never re-pushed; left for reconciliation
    assert harness.store.rows[unknown.id].next_status_check_at is None


async def test_callbacks_must_carry_the_token_and_parse(harness: Harness) -> None:
    topup = await harness.start()
    body = harness.sandbox.callback_body(topup.checkout_request_id or "")
    with pytest.raises(CallbackRejected):
        await harness.service.handle_callback("wrong-token-0123456789", body, {})
    with pytest.raises(CallbackInvalid):
        await harness.service.handle_callback(TOKEN, b"{not json", {})
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING


async def test_an_answer_for_an_unknown_push_or_a_contradicting_one_changes_nothing(harness: Harness) -> None:
    with pytest.raises(UnknownCheckout):
        await harness.service.apply_outcome(
            "ws_CO_nope",
            outcome_of_status(StkFailed("ws_CO_nope", ResultCode.CANCELLED_BY_USER, "cancelled")),
            resolved_by=ResolvedBy.CALLBACK,
        )
    topup = await harness.start()
    await harness.sandbox.deliver_due()
    with pytest.raises(ConflictingOutcome):
        await harness.service.apply_outcome(
            topup.checkout_request_id or "",
            outcome_of_status(StkFailed(topup.checkout_request_id or "", ResultCode.CANCELLED_BY_USER, "cancelled")),
            resolved_by=ResolvedBy.STATUS_QUERY,
        )
    assert harness.store.rows[topup.id].status is TopupStatus.SUCCEEDED
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000


async def test_a_ledger_outage_leaves_the_top_up_pending_for_the_resolver(harness: Harness) -> None:
    topup = await harness.start()
    harness.ledger.unavailable = True
    await harness.sandbox.deliver_due()  # the callback fails (the sandbox records it); nothing changed
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING
    harness.ledger.unavailable = False
    harness.clock.advance(ms=30_000)
    assert (await harness.service.resolve_due(10)).settled == 1
    assert harness.store.rows[topup.id].status is TopupStatus.SUCCEEDED
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000


# -- routes, over the same fakes (no database: requests that would need the idempotency store are left out) --

ADMIN_KEY = "topup-unit-admin"
OTHER_WORKSPACE_KEY = "topup-unit-other-workspace"
CALLBACKS = "/api/v1/payments/top-ups/callbacks"


@pytest_asyncio.fixture
async def topup_http(harness: Harness) -> AsyncIterator[httpx.AsyncClient]:
    api_keys = [
        {"name": "other", "key_sha256": hash_api_key(OTHER_WORKSPACE_KEY), "roles": ["operator"], "workspace_id": "w2"}
    ]
    settings = FundingSettings(
        dev_api_key=ADMIN_KEY,
        api_keys_json=json.dumps(api_keys),
        log_json=False,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused",
        mobile_money_callback_token=TOKEN,
    )
    app = create_app(settings, topup_provider=harness.sandbox)
    app.dependency_overrides[get_topup_service] = lambda: harness.service
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://funding") as client:
        yield client


async def test_a_top_up_needs_an_idempotency_key(topup_http: httpx.AsyncClient) -> None:
    response = await topup_http.post(
        "/api/v1/payments/top-ups",
        json={"amount_minor": 150_000, "phone_number": PHONE, "identity_id": OWNER},
        headers={"X-API-Key": ADMIN_KEY},
    )
    assert response.status_code == 400 and response.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_a_top_up_is_read_by_its_workspace_only_with_the_phone_masked(
    topup_http: httpx.AsyncClient, harness: Harness
) -> None:
    topup = await harness.start()
    found = await topup_http.get(f"/api/v1/payments/top-ups/{topup.id}", headers={"X-API-Key": ADMIN_KEY})
    assert found.status_code == 200
    body = found.json()
    assert (body["status"], body["phone_number_masked"], body["amount_minor"]) == ("pending", "+254******678", 150_000)
    assert PHONE_E164 not in found.text
    other = await topup_http.get(f"/api/v1/payments/top-ups/{topup.id}", headers={"X-API-Key": OTHER_WORKSPACE_KEY})
    assert other.status_code == 404 and other.json()["code"] == "TOPUP_NOT_FOUND"


async def test_the_callback_route_answers_each_case(topup_http: httpx.AsyncClient, harness: Harness) -> None:
    topup = await harness.start()
    body = harness.sandbox.callback_body(topup.checkout_request_id or "")
    wrong_token = await topup_http.post(f"{CALLBACKS}/sandbox/not-the-token-0123456789", content=body)
    assert wrong_token.status_code == 401
    assert (await topup_http.post(f"{CALLBACKS}/daraja/{TOKEN}", content=body)).status_code == 404
    malformed = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=b'{"Body": {}}')
    assert malformed.status_code == 400 and malformed.json()["code"] == "CALLBACK_INVALID"
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING

    accepted = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=body)
    assert (accepted.status_code, accepted.json()) == (200, {"ResultCode": 0, "ResultDesc": "Accepted"})
    again = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=body)
    assert again.status_code == 200 and harness.ledger.credit_calls == 1
    assert harness.store.rows[topup.id].status is TopupStatus.SUCCEEDED


def test_callback_tokens_never_reach_the_logs() -> None:
    path = f"{CALLBACKS}/sandbox/{TOKEN}"
    assert redact_callback_tokens(path) == f"{CALLBACKS}/sandbox/[REDACTED]"
    record = logging.LogRecord("clearway.http.access", logging.INFO, __file__, 1, "POST %s", (path,), None)
    record.path = path
    assert CallbackTokenRedactor().filter(record)
    assert TOKEN not in record.getMessage() and TOKEN not in record.path


def test_urls_logged_by_httpx_are_redacted_too() -> None:
    url = httpx.URL(f"http://funding.internal{CALLBACKS}/sandbox/{TOKEN}")
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s %s", ("POST", url), None)
    CallbackTokenRedactor().filter(record)
    assert TOKEN not in record.getMessage() and "[REDACTED]" in record.getMessage()


# -- the Daraja client behind the same service (an in-memory Daraja over httpx.MockTransport) --

DARAJA_TOKEN = "cbtok_0123456789abcdef"


def daraja_settings() -> DarajaSettings:
    return DarajaSettings(
        consumer_key="ck-test",
        consumer_secret="cs-test",
        business_short_code="174379",
        passkey="bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
        callback_url="https://funding.example.test/api/v1/payments/top-ups/callbacks/daraja/{callback_token}",
        callback_token=DARAJA_TOKEN,
    )


@pytest.fixture
def uncached_loggers() -> Iterator[None]:
    """`create_app` (other tests here) configures structlog to cache each logger on first use; the
    providers' own tests capture the Daraja client's logs later, so its logger must not be frozen here."""
    cache_setting = structlog.get_config()["cache_logger_on_first_use"]
    structlog.configure(cache_logger_on_first_use=False)
    yield
    structlog.configure(cache_logger_on_first_use=cache_setting)


@pytest.mark.usefixtures("uncached_loggers")
async def test_a_daraja_push_and_its_callback_settle_a_top_up(harness: Harness) -> None:
    daraja_server = FakeDarajaServer()
    async with DarajaClient(daraja_settings(), transport=httpx.MockTransport(daraja_server.handler)) as daraja:
        harness.service.provider = daraja
        topup = await harness.start()
        assert (topup.provider, topup.checkout_request_id) == ("daraja", "ws_CO_FAKE_00000001")
        (push,) = daraja_server.json_bodies_to("/mpesa/stkpush/v1/processrequest")
        assert (push["Amount"], push["PhoneNumber"], push["AccountReference"]) == (
            1500,
            "254712345678",
            topup.account_reference,
        )
        body = build_daraja_stk_callback(
            merchant_request_id=topup.merchant_request_id or "",
            checkout_request_id=topup.checkout_request_id or "",
            result_code=ResultCode.SUCCESS,
            amount_minor=150_000,
            mpesa_receipt="PDL72WRAVZ",
            phone=PHONE_E164,
            transaction_date=harness.clock(),
        )
        with pytest.raises(CallbackRejected):
            await harness.service.handle_callback("not-the-token-000", body, {})
        assert await harness.service.handle_callback(DARAJA_TOKEN, body, {}) is Delivery.APPLY
        assert await harness.service.handle_callback(DARAJA_TOKEN, body, {}) is Delivery.DUPLICATE
    settled = harness.store.rows[topup.id]
    assert (settled.status, settled.receipt) == (TopupStatus.SUCCEEDED, "PDL72WRAVZ")
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000


def test_daraja_mode_mounts_no_sandbox_and_uses_the_daraja_client(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {
        "CONSUMER_KEY": "ck-test",
        "CONSUMER_SECRET": "cs-test",
        "BUSINESS_SHORT_CODE": "174379",
        "PASSKEY": "pk-test",
        "CALLBACK_URL": "https://funding.example.test/api/v1/payments/top-ups/callbacks/daraja/{callback_token}",
        "CALLBACK_TOKEN": DARAJA_TOKEN,
    }
    for name, value in environment.items():
        monkeypatch.setenv(f"CLEARWAY_DARAJA_{name}", value)
    settings = FundingSettings(
        mobile_money_provider="daraja", database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused"
    )
    app = create_app(settings)
    assert isinstance(app.state.topups.provider, DarajaClient)
    paths = set(app.openapi()["paths"])
    assert "/api/v1/payments/top-ups" in paths
    assert not any(path.startswith("/sandbox/") for path in paths)


def test_sandbox_mode_documents_the_control_api() -> None:
    app = create_app(FundingSettings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused"))
    assert isinstance(app.state.topups.provider, SandboxProvider)
    assert "/sandbox/mobile-money/scenarios" in app.openapi()["paths"]
