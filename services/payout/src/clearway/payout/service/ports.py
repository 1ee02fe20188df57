"""What the payout use cases need from storage, the ledger and the rails; adapters implement it,
unit tests fake it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from pydantic import BaseModel

from clearway.payout.domain.approvals import ApprovalRequest, AuditEntry
from clearway.payout.domain.batches import BatchTotals, PayoutBatch
from clearway.payout.domain.limits import CurrencyLimits
from clearway.payout.domain.withdrawal_methods import WithdrawalMethod
from clearway.payout.domain.withdrawals import PaymentIntent, Withdrawal, WithdrawalStatus
from clearway.platform.ledger import LedgerBalance, LedgerTransaction, Posting


class WithdrawalMethodRepository(Protocol):
    async def add(self, method: WithdrawalMethod) -> None: ...

    async def get(self, method_id: str, *, for_update: bool = False) -> WithdrawalMethod | None: ...

    async def list_for_user(
        self, user_id: str | None, *, active: bool | None, starting_after: str | None, limit: int
    ) -> Sequence[WithdrawalMethod]: ...

    async def primary_for(self, user_id: str, currency: str | None = None) -> WithdrawalMethod | None: ...

    async def clear_primary(self, user_id: str, now: datetime) -> None: ...

    async def update(self, method: WithdrawalMethod) -> None: ...


class WithdrawalRepository(Protocol):
    async def lock_wallet(self, user_id: str, currency: str) -> None:
        """Serialise one user's withdrawals in one currency until the transaction ends (seed: "lock wallet row")."""

    async def add(self, withdrawal: Withdrawal, intent: PaymentIntent) -> None: ...

    async def get(self, withdrawal_id: str, *, for_update: bool = False) -> Withdrawal | None: ...

    async def get_by_idempotency_key(self, user_id: str, idempotency_key: str) -> Withdrawal | None: ...

    async def get_by_payable(self, payable_id: str) -> Withdrawal | None: ...

    async def get_by_provider_reference(self, provider_reference: str, *, for_update: bool) -> Withdrawal | None: ...

    async def delete_unreserved(self, withdrawal_id: str) -> None:
        """Forget a withdrawal whose hold the ledger refused (and its intent): the request changed nothing."""

    async def update(self, withdrawal: Withdrawal) -> None: ...

    async def intent(self, intent_id: str) -> PaymentIntent: ...

    async def update_intent(self, intent: PaymentIntent) -> None: ...

    async def open_total_since(self, user_id: str, currency: str, since: datetime) -> int:
        """Minor units of the user's withdrawals created since `since` that still count against the day."""

    async def list_for_user(
        self, user_id: str | None, *, status: WithdrawalStatus | None, starting_after: str | None, limit: int
    ) -> Sequence[Withdrawal]: ...

    async def reserving_older_than(self, before: datetime, limit: int) -> Sequence[Withdrawal]: ...

    async def approved_unsubmitted_older_than(self, before: datetime, limit: int) -> Sequence[Withdrawal]: ...

    async def lock_due_for_status_check(self, now: datetime, limit: int) -> Sequence[Withdrawal]: ...

    async def with_ledger_due(self, before: datetime, limit: int) -> Sequence[Withdrawal]:
        """Decided withdrawals whose hold is not yet where the decision puts it."""

    async def in_batch(self, batch_id: str) -> Sequence[Withdrawal]: ...

    async def batch_totals(self, batch_ids: Sequence[str]) -> Mapping[str, BatchTotals]:
        """Each batch's count and sum of withdrawals, in one query (a batch without any is absent)."""


class ApprovalRepository(Protocol):
    async def add(self, request: ApprovalRequest) -> None: ...

    async def get(self, approval_id: str, *, for_update: bool = False) -> ApprovalRequest | None: ...

    async def pending_for(self, withdrawal_id: str) -> ApprovalRequest | None: ...

    async def update(self, request: ApprovalRequest) -> None: ...

    async def list(
        self, *, status: str | None, starting_after: str | None, limit: int
    ) -> Sequence[ApprovalRequest]: ...


class AuditLog(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def for_entity(self, entity_type: str, entity_id: str) -> Sequence[AuditEntry]: ...


class SettingsRepository(Protocol):
    async def limits(self) -> Mapping[str, CurrencyLimits]: ...

    async def replace_limits(self, limits: Mapping[str, CurrencyLimits], *, actor: str, now: datetime) -> None: ...


class BatchRepository(Protocol):
    async def open_batch(self, currency: str, new: PayoutBatch) -> PayoutBatch:
        """The currency's open batch, created as `new` if there is none."""

    async def get(self, batch_id: str, *, for_update: bool = False) -> PayoutBatch | None: ...

    async def update(self, batch: PayoutBatch) -> None: ...

    async def list(self, *, starting_after: str | None, limit: int) -> Sequence[PayoutBatch]: ...


class Inbox(Protocol):
    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool: ...


class EventOutbox(Protocol):
    async def add(self, event: BaseModel) -> str: ...


class PayoutUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def methods(self) -> WithdrawalMethodRepository: ...

    @property
    def withdrawals(self) -> WithdrawalRepository: ...

    @property
    def approvals(self) -> ApprovalRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def settings(self) -> SettingsRepository: ...

    @property
    def batches(self) -> BatchRepository: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def events(self) -> EventOutbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class Ledger(Protocol):
    """The ledger calls payout makes; every write carries a reference derived from a withdrawal id."""

    async def find_wallet(self, identity_id: str, currency: str) -> LedgerBalance | None: ...

    async def post(self, posting: Posting) -> LedgerTransaction: ...

    async def commit_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction: ...

    async def void_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction: ...
