"""Top-up use cases: start a top-up (STK push), settle it from the provider's answer, read it back.

Provider and ledger calls never run inside a database transaction: the intent is committed
before the push (so a crash leaves a record to reconcile, never a prompt we forgot), and the
ledger credit is posted before the intent is marked succeeded, with a deterministic reference
(`topup:<id>`), so a retry, a duplicate callback or a crash between the two is a ledger replay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clearway.contracts.catalogue import topic
from clearway.funding.domain import topups as domain
from clearway.funding.domain.topups import (
    TOPUP_ID_PREFIX,
    ConflictingOutcome,
    Delivery,
    IdempotencyKeyReused,
    ProviderOutcome,
    ProviderReferenceConflict,
    ResolvedBy,
    StartTopup,
    Topup,
    TopupNotFound,
    TopupRefused,
    TopupStatus,
    UnknownCheckout,
)
from clearway.funding.service import topup_resolver
from clearway.funding.service.ports import LedgerRefusedError, LedgerUnavailableError
from clearway.funding.service.topup_outcomes import failed_event, outcome_of_callback, succeeded_event
from clearway.funding.service.topup_ports import (
    LedgerRefused,
    LedgerUnavailable,
    TopupUnitOfWork,
    WalletCredit,
    WalletLedger,
    WalletOwnerUnknown,
)
from clearway.funding.service.topup_resolver import ResolverReport
from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.providers.mobile_money import (
    InvalidPhoneNumber,
    InvalidStkPushRequest,
    MobileMoneyProvider,
    ProviderError,
    StkPushOutcomeUnknown,
    StkPushRequest,
    callback_fingerprint,
    mask_phone,
    normalise_phone,
)

logger = get_logger("clearway.funding.topups")

Clock = Callable[[], datetime]
TOPUP_SUCCEEDED = topic("topup.succeeded").name
TOPUP_FAILED = topic("topup.failed").name
PUSH_DESCRIPTION = "Wallet top-up"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TopupPolicy:
    status_query_after_ms: int = 30_000
    status_query_interval_ms: int = 15_000
    status_queries_max: int = 20
    default_currency: str = "KES"
    currencies: frozenset[str] = frozenset({"KES"})
    phone_default_region: str = "KE"

    def __post_init__(self) -> None:
        assert self.status_query_after_ms >= 0 and self.status_query_interval_ms > 0
        assert self.status_queries_max >= 1
        assert self.default_currency in self.currencies


@dataclass(frozen=True, slots=True)
class TopupRequest:
    """What a client asks for, before validation (the phone as typed, the currency maybe omitted)."""

    workspace_id: str
    identity_id: str | None  # None: the workspace's own wallet
    amount_minor: int
    currency: str | None
    phone_number: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class StartResult:
    topup: Topup
    created: bool  # False: an earlier request with the same key made it


@dataclass
class TopupService:
    unit_of_work: Callable[[], TopupUnitOfWork]
    provider: MobileMoneyProvider
    ledger: WalletLedger
    policy: TopupPolicy = field(default_factory=TopupPolicy)
    clock: Clock = utc_now
    # The ledger identity holding a workspace's own wallet (created on first need), for top-ups
    # that name no identity. Without it such top-ups are refused.
    workspace_identity: Callable[[str], Awaitable[str]] | None = None

    # -- start ---------------------------------------------------------------------------------

    async def start(self, request: TopupRequest) -> StartResult:
        command = self._validated(request, await self._wallet_owner(request))
        async with self.unit_of_work() as uow:
            existing = await uow.topups.get_by_idempotency_key(command.workspace_id, command.idempotency_key)
        if existing is not None:
            return StartResult(_same_request_or_refuse(command, existing), created=False)
        topup_id = new_id(TOPUP_ID_PREFIX)
        push = _push_request(command, topup_id)  # refuses a bad request before anything is stored
        try:
            # Before the phone is prompted: money collected for a wallet that cannot exist would be stuck.
            wallet_balance_id = await self.ledger.ensure_wallet(command.identity_id, command.currency)
        except WalletOwnerUnknown as error:
            raise TopupRefused(str(error), code="WALLET_OWNER_UNKNOWN") from error
        now = self.clock()
        topup = domain.new_topup(
            command,
            topup_id=topup_id,
            wallet_balance_id=wallet_balance_id,
            provider=self.provider.name,
            now=now,
            first_status_check_at=now + timedelta(milliseconds=self.policy.status_query_after_ms),
        )
        async with self.unit_of_work() as uow:
            if not await uow.topups.add(topup):
                raced = await uow.topups.get_by_idempotency_key(command.workspace_id, command.idempotency_key)
                assert raced is not None, "the unique key that refused the insert names a row"
                return StartResult(_same_request_or_refuse(command, raced), created=False)
            await uow.commit()
        return StartResult(await self._push(topup, push), created=True)

    async def _wallet_owner(self, request: TopupRequest) -> str:
        if request.identity_id is not None:
            return request.identity_id
        if self.workspace_identity is None:
            raise TopupRefused("identity_id is required: name the wallet owner.", code="IDENTITY_REQUIRED")
        try:
            return await self.workspace_identity(request.workspace_id)
        except LedgerRefusedError as error:
            raise LedgerRefused(str(error)) from error
        except LedgerUnavailableError as error:
            raise LedgerUnavailable(str(error)) from error

    def _validated(self, request: TopupRequest, identity_id: str) -> StartTopup:
        currency = (request.currency or self.policy.default_currency).upper()
        if currency not in self.policy.currencies:
            raise TopupRefused(
                f"{currency[:8]} top-ups are not supported; supported: {', '.join(sorted(self.policy.currencies))}",
                code="CURRENCY_NOT_SUPPORTED",
            )
        try:
            phone = normalise_phone(request.phone_number, default_region=self.policy.phone_default_region)
        except InvalidPhoneNumber as error:
            raise TopupRefused(error.message, code=error.code) from error
        if request.amount_minor <= 0:
            raise TopupRefused("amount_minor must be positive", code="INVALID_AMOUNT")
        return StartTopup(
            workspace_id=request.workspace_id,
            identity_id=identity_id,
            amount_minor=request.amount_minor,
            currency=currency,
            phone=phone,
            idempotency_key=request.idempotency_key,
        )

    async def _push(self, topup: Topup, push: StkPushRequest) -> Topup:
        log = logger.bind(topup_id=topup.id, phone=mask_phone(topup.phone), provider=topup.provider)
        try:
            accepted = await self.provider.initiate_stk_push(push)
        except StkPushOutcomeUnknown:
            # Never resend: a second prompt could take the money twice. Pending until reconciled.
            log.warning("stk push outcome unknown; top-up stays pending for reconciliation")
            return topup
        except InvalidStkPushRequest as error:
            await self._refuse_push(topup, error)
            raise TopupRefused(error.message, code=error.code) from error
        except ProviderError as error:
            log.warning("stk push refused", error_code=error.code, provider_code=error.provider_code)
            return await self._refuse_push(topup, error)
        try:
            async with self.unit_of_work() as uow:
                current = await uow.topups.get_for_update(topup.id)
                assert current is not None
                now = self.clock()  # inside the transaction that writes it
                accepted_topup = domain.push_accepted(
                    current,
                    checkout_request_id=accepted.checkout_request_id,
                    merchant_request_id=accepted.merchant_request_id,
                    now=now,
                    first_status_check_at=now + timedelta(milliseconds=self.policy.status_query_after_ms),
                )
                await uow.topups.update(accepted_topup)
                await uow.commit()
        except ProviderReferenceConflict:
            # The customer may still be prompted; the intent stays pending for reconciliation by hand.
            log.error(
                "provider request id already held by another top-up; reconcile by hand",
                checkout_request_id=accepted.checkout_request_id,
            )
            raise
        log.info("stk push accepted", checkout_request_id=accepted.checkout_request_id)
        return accepted_topup

    async def _refuse_push(self, topup: Topup, error: ProviderError) -> Topup:
        now = self.clock()
        async with self.unit_of_work() as uow:
            current = await uow.topups.get_for_update(topup.id)
            assert current is not None
            failed = domain.push_refused(
                current, failure_reason=error.code.lower(), result_desc=error.message[:500], now=now
            )
            await uow.topups.update(failed)
            await uow.events.publish(TOPUP_FAILED, failed.id, failed_event(failed, now))
            await uow.commit()
        return failed

    # -- read ----------------------------------------------------------------------------------

    async def get(self, topup_id: str, *, workspace_id: str) -> Topup:
        async with self.unit_of_work() as uow:
            topup = await uow.topups.get(topup_id)
        # Another workspace's top-up is answered like a missing one: ids reveal nothing.
        if topup is None or topup.workspace_id != workspace_id:
            raise TopupNotFound(f"No top-up {topup_id}.")
        return topup

    # -- the provider's answer -----------------------------------------------------------------

    async def handle_callback(self, token: str | None, body: bytes, headers: Mapping[str, str]) -> Delivery | None:
        """Verify, parse and apply a callback; None when it reports "still processing" (nothing to do).

        Raises CallbackRejected (401), CallbackInvalid (400), UnknownCheckout (404), ConflictingOutcome (409).
        """
        self.provider.verify_callback_token(token)
        callback = self.provider.parse_callback(body, headers)
        if not callback.result_code.is_final:
            logger.info("callback reports the push still processing", checkout_request_id=callback.checkout_request_id)
            return None
        return await self.apply_outcome(
            callback.checkout_request_id,
            outcome_of_callback(callback),
            resolved_by=ResolvedBy.CALLBACK,
            fingerprint=callback_fingerprint(callback),
        )

    async def apply_outcome(
        self,
        checkout_request_id: str,
        outcome: ProviderOutcome,
        *,
        resolved_by: ResolvedBy,
        fingerprint: str | None = None,
    ) -> Delivery:
        """Settle the intent once; an answer that agrees with the record is acknowledged without effect."""
        async with self.unit_of_work() as uow:
            topup = await uow.topups.get_by_checkout_request_id(checkout_request_id, for_update=False)
        if topup is None:
            raise UnknownCheckout(f"No top-up with CheckoutRequestID {checkout_request_id[:128]}.")
        delivery = domain.classify(topup, outcome)
        if delivery is not Delivery.APPLY:
            return self._acknowledge(topup, outcome, delivery, resolved_by)
        ledger_transaction_id = await self._credit(topup) if outcome.succeeded else None
        async with self.unit_of_work() as uow:
            current = await uow.topups.get_by_checkout_request_id(checkout_request_id, for_update=True)
            assert current is not None
            delivery = domain.classify(current, outcome)
            if delivery is not Delivery.APPLY:
                # Another delivery settled it while we posted; our credit was a replay of its own.
                return self._acknowledge(current, outcome, delivery, resolved_by, credited=outcome.succeeded)
            now = self.clock()
            settled = domain.settle(
                current,
                outcome,
                resolved_by=resolved_by,
                now=now,
                ledger_transaction_id=ledger_transaction_id,
                callback_fingerprint=fingerprint,
            )
            await uow.topups.update(settled)
            if settled.status is TopupStatus.SUCCEEDED:
                await uow.events.publish(TOPUP_SUCCEEDED, settled.id, succeeded_event(settled, now))
            else:
                await uow.events.publish(TOPUP_FAILED, settled.id, failed_event(settled, now))
            await uow.commit()
        logger.info(
            "top-up settled",
            topup_id=settled.id,
            status=settled.status.value,
            result_code=settled.result_code,
            resolved_by=resolved_by.value,
        )
        return Delivery.APPLY

    async def _credit(self, topup: Topup) -> str:
        return await self.ledger.credit_wallet(
            WalletCredit(
                reference=topup.ledger_reference_for_credit(),
                source=collection_balance(topup.provider, topup.currency),
                destination_balance_id=topup.wallet_balance_id,
                amount_minor=topup.amount_minor,
                currency=topup.currency,
                description=f"Mobile money top-up {topup.id}",
                meta_data={
                    "topup_id": topup.id,
                    "provider": topup.provider,
                    "checkout_request_id": topup.checkout_request_id or "",
                },
            )
        )

    @staticmethod
    def _acknowledge(
        topup: Topup, outcome: ProviderOutcome, delivery: Delivery, resolved_by: ResolvedBy, *, credited: bool = False
    ) -> Delivery:
        if delivery is Delivery.DUPLICATE:
            logger.info("duplicate provider answer ignored", topup_id=topup.id, resolved_by=resolved_by.value)
            return delivery
        assert delivery is Delivery.CONFLICTING
        logger.error(
            "provider answer contradicts the recorded outcome; reconcile by hand",
            topup_id=topup.id,
            recorded_status=topup.status.value,
            recorded_result_code=topup.result_code,
            reported_result_code=outcome.result_code,
            reported_amount_minor=outcome.amount_minor,
            wallet_credited_by_this_answer=credited and topup.status is not TopupStatus.SUCCEEDED,
        )
        raise ConflictingOutcome(f"Top-up {topup.id} is already {topup.status.value} with another outcome.")

    # -- lost callbacks ------------------------------------------------------------------------

    async def resolve_due(self, batch_size_max: int) -> ResolverReport:
        """Ask the provider about pending top-ups whose callback is overdue (see topup_resolver.py)."""
        return await topup_resolver.resolve_due(self, batch_size_max)


def _push_request(command: StartTopup, topup_id: str) -> StkPushRequest:
    try:
        return StkPushRequest(
            phone=command.phone,
            amount_minor=command.amount_minor,
            currency=command.currency,
            account_reference=domain.account_reference_for(topup_id),
            description=PUSH_DESCRIPTION,
        )
    except InvalidStkPushRequest as error:
        raise TopupRefused(error.message, code=error.code) from error


def _same_request_or_refuse(command: StartTopup, existing: Topup) -> Topup:
    if not command.same_request_as(existing):
        raise IdempotencyKeyReused("This Idempotency-Key was already used for a different top-up.")
    return existing


def collection_balance(provider: str, currency: str) -> str:
    """The internal ledger balance money collected through `provider` comes from (it goes negative)."""
    return f"@MobileMoney-{provider}-{currency}"
