"""Top-up use cases over in-memory fakes and the real sandbox provider on a manual clock (no I/O)."""

from __future__ import annotations

import copy
import dataclasses
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

from clearway.contracts.catalogue import topic_for_event
from clearway.funding.adapters.invoice_delivery import EventOnlyDelivery
from clearway.funding.config import FundingSettings
from clearway.funding.domain.errors import IdempotencyKeyReusedError
from clearway.funding.domain.invoices import InvoiceTerms
from clearway.funding.domain.postings import Posting
from clearway.funding.domain.topup_errors import (
    CallbackInvalidError,
    CallbackRejectedError,
    ConflictingOutcomeError,
    TopupLedgerUnavailableError,
    TopupRefusedError,
    UnknownCheckoutError,
)
from clearway.funding.domain.topups import Delivery, ResolvedBy, Topup, TopupPolicy, TopupStatus
from clearway.funding.domain.workspaces import Workspace
from clearway.funding.entrypoints.dependencies import get_context
from clearway.funding.entrypoints.http_topups import install_callback_log_redaction
from clearway.funding.main import create_app
from clearway.funding.service import topup_resolution, topups
from clearway.funding.service.context import FundingContext, MobileMoneyNotConfiguredError
from clearway.funding.service.ports import LedgerBalance, LedgerRefusedError, LedgerTransaction, LedgerUnavailableError
from clearway.funding.service.topup_outcomes import outcome_of_status
from clearway.funding.service.topup_resolution import ResolverReport
from clearway.funding.service.topups import CALLBACK_REJECTED_DETAIL, StartResult, TopupRequest
from clearway.platform.auth import hash_api_key
from clearway.platform.callback_redaction import CallbackTokenRedactor, redact_callback_tokens
from clearway.providers.clock import ManualClock
from clearway.providers.mobile_money import (
    DarajaClient,
    DarajaSettings,
    MobileMoneyProvider,
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
INVOICE_TERMS = InvoiceTerms(
    issuer_name="Clearway",
    bank_name="Bank",
    account_name="Client funds",
    account_number="0001",
    due_days=7,
    expiry_grace_days=30,
    send_attempts_max=5,
)


class FakeStore:
    """What the fake units of work share: committed rows and outbox events, like the database."""

    def __init__(self) -> None:
        self.rows: dict[str, Topup] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.events: list[tuple[str, str, BaseModel]] = []

    def snapshot(self) -> tuple[dict[str, Topup], dict[str, Workspace], list[tuple[str, str, BaseModel]]]:
        return dict(self.rows), dict(self.workspaces), copy.copy(self.events)


class FakeTopups:
    def __init__(self, store: FakeStore) -> None:
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


class FakeWorkspaces:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, workspace_id: str) -> Workspace | None:
        return self.store.workspaces.get(workspace_id)

    async def ensure(self, workspace_id: str, *, auto_link_deposits: bool, now: datetime) -> Workspace:
        return self.store.workspaces.setdefault(
            workspace_id, Workspace(workspace_id, None, auto_link_deposits, created_at=now, updated_at=now)
        )

    async def set_identity_once(self, workspace_id: str, identity_id: str, now: datetime) -> Workspace:
        workspace = self.store.workspaces[workspace_id]
        if workspace.ledger_identity_id is None:
            workspace = dataclasses.replace(workspace, ledger_identity_id=identity_id, updated_at=now)
            self.store.workspaces[workspace_id] = workspace
        return workspace


class FakeOutbox:
    """`uow.events.add(event)`: the topic comes from the catalogue, as in adapters/events.py."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, event: BaseModel) -> str:
        spec = topic_for_event(event)
        self.store.events.append((spec.name, spec.message_key(event), event))
        return f"evt_{len(self.store.events)}"


class FakeUnitOfWork:
    """The repositories top-ups use; changes survive only if `commit()` was called, as with a transaction."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.topups = FakeTopups(store)
        self.workspaces = FakeWorkspaces(store)
        self.events = FakeOutbox(store)
        self._snapshot: tuple[dict[str, Topup], dict[str, Workspace], list[tuple[str, str, BaseModel]]] | None = None

    async def __aenter__(self) -> Self:
        self._snapshot = self.store.snapshot()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        assert self._snapshot is not None
        self.store.rows, self.store.workspaces, self.store.events = self._snapshot
        self._snapshot = None

    async def commit(self) -> None:
        self._snapshot = self.store.snapshot()


class FakeLedger:
    """The `Ledger` port as top-ups use it: identities, get-or-create wallets, reference-idempotent postings."""

    def __init__(self) -> None:
        self.identities = {OWNER}
        self.wallets: dict[tuple[str, str], str] = {}
        self.postings: dict[str, Posting] = {}
        self.post_calls = 0
        self.identities_created = 0
        self.unavailable = False
        self.wallet_currency: str | None = None  # set to answer every wallet in this currency

    def _answer(self) -> None:
        if self.unavailable:
            raise LedgerUnavailableError("GET /: 503")

    async def create_identity(self, *, idempotency_key: str, name: str, meta_data: dict[str, str]) -> str:
        self._answer()
        self.identities_created += 1
        identity_id = f"idt_{meta_data['workspace_id']}"
        self.identities.add(identity_id)
        return identity_id

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        self._answer()
        if identity_id not in self.identities:
            raise LedgerRefusedError(404, "NOT_FOUND", f"identity {identity_id} not found")
        balance_id = self.wallets.setdefault((identity_id, currency), f"bln_{len(self.wallets) + 1}")
        return LedgerBalance(balance_id, self.balance_of(balance_id), 0, self.wallet_currency or currency)

    async def post(self, posting: Posting) -> LedgerTransaction:
        self.post_calls += 1
        self._answer()
        replayed = posting.reference in self.postings
        assert self.postings.get(posting.reference, posting) == posting, "same reference, other payload"
        self.postings[posting.reference] = posting
        return LedgerTransaction(f"txn_{posting.reference}", posting.reference, "APPLIED", replayed=replayed)

    def balance_of(self, balance_id: str) -> int:
        return sum(p.amount_minor for p in self.postings.values() if p.destination == balance_id)


class Harness:
    def __init__(self) -> None:
        self.clock = ManualClock(datetime(2025, 1, 1, 12, tzinfo=UTC))
        self.store = FakeStore()
        self.ledger = FakeLedger()
        self.sandbox = SandboxProvider(clock=self.clock, callback_token=TOKEN)
        self.context = FundingContext(
            unit_of_work=lambda: FakeUnitOfWork(self.store),  # type: ignore[arg-type,return-value]
            ledger=self.ledger,  # type: ignore[arg-type]
            delivery=EventOnlyDelivery(),
            render_invoice=lambda invoice: b"",
            terms=INVOICE_TERMS,
            public_url="http://funding.test",
            auto_link_deposits_default=False,
            clock=self.clock,
            mobile_money=self.sandbox,
            topup_policy=TopupPolicy(
                status_query_after_ms=30_000, status_query_interval_ms=10_000, status_queries_max=3
            ),
        )
        self.deliveries: list[Delivery | None] = []

        async def deliver(body: bytes) -> None:
            self.deliveries.append(await topups.handle_callback(self.context, TOKEN, body, {}))

        self.sandbox.set_deliver(deliver)

    def use_provider(self, provider: MobileMoneyProvider | None) -> None:
        self.context = dataclasses.replace(self.context, mobile_money=provider)

    async def start_request(self, request: TopupRequest) -> StartResult:
        return await topups.start_topup(self.context, request)

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
        return (await self.start_request(TopupRequest(**fields))).topup  # type: ignore[arg-type]

    async def resolve_due(self, batch_size_max: int) -> ResolverReport:
        return await topup_resolution.resolve_due(self.context, batch_size_max)

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
    credit = harness.ledger.postings[f"topup:{topup.id}"]
    assert (credit.source, credit.destination) == ("@MobileMoney-sandbox-KES", topup.wallet_balance_id)
    assert credit.allow_overdraft and credit.meta_data["topup_id"] == topup.id
    (event,) = harness.events("topup.succeeded")
    assert event.model_dump()["phone_masked"] == "+254******678"
    assert [key for name, key, _event in harness.store.events if name == "topup.succeeded"] == [topup.id]


async def test_a_duplicate_callback_has_no_second_effect(harness: Harness) -> None:
    topup = await harness.start()
    await harness.sandbox.deliver_due()
    assert await harness.sandbox.redeliver(topup.checkout_request_id or "") is True
    assert harness.deliveries == [Delivery.APPLY, Delivery.DUPLICATE]
    assert harness.ledger.balance_of(topup.wallet_balance_id) == 150_000
    assert harness.ledger.post_calls == 1
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
    assert harness.ledger.postings == {}
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
    assert (await harness.resolve_due(10)).checked == 0  # not overdue yet
    harness.clock.advance(ms=1)
    report = await harness.resolve_due(10)
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
        report = await harness.resolve_due(10)
        assert (report.checked, report.still_pending) == (1, 1)
    harness.clock.advance(ms=600_000)
    assert (await harness.resolve_due(10)).checked == 0  # budget spent: left for reconciliation
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING
    assert harness.store.rows[topup.id].status_checks == 3


async def test_the_same_key_returns_the_same_intent_and_pushes_once(harness: Harness) -> None:
    first = await harness.start()
    again = await harness.start_request(
        TopupRequest("default", OWNER, 150_000, "KES", "+254712345678", idempotency_key="key-1")
    )
    assert again.created is False and again.topup == first
    assert len(harness.sandbox.requests()) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        await harness.start(amount_minor=200_000)


async def test_requests_the_rail_cannot_take_are_refused_before_anything_happens(harness: Harness) -> None:
    with pytest.raises(TopupRefusedError) as unsupported:
        await harness.start(currency="USD")
    assert unsupported.value.error_code == "CURRENCY_NOT_SUPPORTED"
    with pytest.raises(TopupRefusedError) as bad_phone:
        await harness.start(phone_number="12")
    assert bad_phone.value.error_code == "INVALID_PHONE_NUMBER"
    with pytest.raises(TopupRefusedError) as unknown_owner:
        await harness.start(identity_id="idt_nobody")
    assert unknown_owner.value.error_code == "WALLET_OWNER_UNKNOWN"
    # No owner named and the ledger down: the workspace's identity cannot be found, so nothing is sent.
    harness.ledger.unavailable = True
    with pytest.raises(TopupLedgerUnavailableError) as no_ledger:
        await harness.start(identity_id=None)
    assert (no_ledger.value.http_status, no_ledger.value.error_code) == (503, "LEDGER_UNAVAILABLE")
    assert harness.store.rows == {} and harness.sandbox.requests() == []


async def test_a_wallet_in_another_currency_from_the_ledger_is_refused_not_asserted(harness: Harness) -> None:
    harness.ledger.wallet_currency = "USD"  # the ledger breaks its contract
    with pytest.raises(TopupLedgerUnavailableError) as wrong_wallet:
        await harness.start()
    assert (wrong_wallet.value.http_status, wrong_wallet.value.error_code) == (503, "LEDGER_UNAVAILABLE")
    assert harness.store.rows == {} and harness.sandbox.requests() == []


def test_settings_refuse_a_default_currency_the_rail_does_not_collect() -> None:
    with pytest.raises(ValueError, match="topup_currency_default"):
        FundingSettings(topup_currency_default="USD", topup_currencies=["KES"])


async def test_the_workspace_wallet_is_the_default_owner(harness: Harness) -> None:
    first = await harness.start(identity_id=None)
    assert (
        first.identity_id == "idt_default" and harness.store.workspaces["default"].ledger_identity_id == "idt_default"
    )
    second = await harness.start(key="key-2", identity_id=None)
    assert second.identity_id == first.identity_id and second.wallet_balance_id == first.wallet_balance_id
    assert harness.ledger.identities_created == 1  # created once, on first need


async def test_a_top_up_use_case_without_a_provider_is_a_named_wiring_error(harness: Harness) -> None:
    harness.use_provider(None)
    with pytest.raises(MobileMoneyNotConfiguredError):
        await harness.start()
    with pytest.raises(MobileMoneyNotConfiguredError):
        await harness.resolve_due(10)
    assert harness.store.rows == {}


async def test_m_pesa_rules_refuse_cents_after_recording_the_attempt(harness: Harness) -> None:
    with pytest.raises(TopupRefusedError) as refused:
        await harness.start(amount_minor=150_050)
    assert refused.value.error_code == "INVALID_STK_PUSH_REQUEST"
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
    harness.use_provider(BrokenProvider(ProviderUnavailable("down")))
    failed = await harness.start(key="k-down")
    assert (failed.status, failed.failure_reason) == (TopupStatus.FAILED, "provider_unavailable")
    assert len(harness.events("topup.failed")) == 1

    harness.use_provider(BrokenProvider(StkPushOutcomeUnknown("no answer")))
    unknown = await harness.start(key="k-unknown")
    assert unknown.status is TopupStatus.PENDING and unknown.checkout_request_id is None
    harness.clock.advance(ms=30_000)
    report = await harness.resolve_due(10)
    assert (report.checked, report.given_up) == (0, 1)  # never re-pushed; left for reconciliation
    assert harness.store.rows[unknown.id].next_status_check_at is None


async def test_callbacks_must_carry_the_token_and_parse(harness: Harness) -> None:
    topup = await harness.start()
    body = harness.sandbox.callback_body(topup.checkout_request_id or "")
    with pytest.raises(CallbackRejectedError) as rejected:
        await topups.handle_callback(harness.context, "wrong-token-0123456789", body, {})
    assert (rejected.value.http_status, rejected.value.error_code) == (401, "CALLBACK_REJECTED")
    with pytest.raises(CallbackInvalidError) as invalid:
        await topups.handle_callback(harness.context, TOKEN, b"{not json", {})
    assert (invalid.value.http_status, invalid.value.error_code) == (400, "CALLBACK_INVALID")
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING


async def test_an_answer_for_an_unknown_push_or_a_contradicting_one_changes_nothing(harness: Harness) -> None:
    with pytest.raises(UnknownCheckoutError):
        await topups.apply_outcome(
            harness.context,
            "ws_CO_nope",
            outcome_of_status(StkFailed("ws_CO_nope", ResultCode.CANCELLED_BY_USER, "cancelled")),
            resolved_by=ResolvedBy.CALLBACK,
        )
    topup = await harness.start()
    await harness.sandbox.deliver_due()
    with pytest.raises(ConflictingOutcomeError):
        await topups.apply_outcome(
            harness.context,
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
    assert (await harness.resolve_due(10)).settled == 1
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
    app.dependency_overrides[get_context] = lambda: harness.context
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
    assert (wrong_token.json()["code"], wrong_token.json()["detail"]) == ("CALLBACK_REJECTED", CALLBACK_REJECTED_DETAIL)
    assert (await topup_http.post(f"{CALLBACKS}/daraja/{TOKEN}", content=body)).status_code == 404
    malformed = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=b'{"Body": {}}')
    assert malformed.status_code == 400 and malformed.json()["code"] == "CALLBACK_INVALID"
    assert harness.store.rows[topup.id].status is TopupStatus.PENDING

    accepted = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=body)
    assert (accepted.status_code, accepted.json()) == (200, {"ResultCode": 0, "ResultDesc": "Accepted"})
    again = await topup_http.post(f"{CALLBACKS}/sandbox/{TOKEN}", content=body)
    assert again.status_code == 200 and harness.ledger.post_calls == 1
    assert harness.store.rows[topup.id].status is TopupStatus.SUCCEEDED


def test_callback_tokens_never_reach_the_logs() -> None:
    install_callback_log_redaction()
    path = f"{CALLBACKS}/sandbox/{TOKEN}"
    assert redact_callback_tokens(path) == f"{CALLBACKS}/sandbox/[REDACTED]"
    record = logging.LogRecord("clearway.http.access", logging.INFO, __file__, 1, "POST %s", (path,), None)
    record.path = path
    assert CallbackTokenRedactor().filter(record)
    assert TOKEN not in record.getMessage() and TOKEN not in record.path


def test_urls_logged_by_httpx_are_redacted_too() -> None:
    install_callback_log_redaction()
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
        harness.use_provider(daraja)
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
        with pytest.raises(CallbackRejectedError):
            await topups.handle_callback(harness.context, "not-the-token-000", body, {})
        assert await topups.handle_callback(harness.context, DARAJA_TOKEN, body, {}) is Delivery.APPLY
        assert await topups.handle_callback(harness.context, DARAJA_TOKEN, body, {}) is Delivery.DUPLICATE
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
    assert isinstance(app.state.funding_context.mobile_money, DarajaClient)
    paths = set(app.openapi()["paths"])
    assert "/api/v1/payments/top-ups" in paths
    assert not any(path.startswith("/sandbox/") for path in paths)


def test_sandbox_mode_documents_the_control_api() -> None:
    app = create_app(FundingSettings(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/unused"))
    assert isinstance(app.state.funding_context.mobile_money, SandboxProvider)
    assert "/sandbox/mobile-money/scenarios" in app.openapi()["paths"]
