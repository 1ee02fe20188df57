"""What the authorization use cases need: repositories, one unit of work, the outbox, the inbox and
the ledger. Adapters implement them; unit tests fake them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from pydantic import BaseModel

from clearway.authorization.domain.authorizations import Authorization, CardActivity
from clearway.authorization.domain.card_accounts import CardAccount
from clearway.authorization.domain.cards import Card
from clearway.authorization.domain.clearings import Clearing
from clearway.platform.ledger import AtomicPosting, LedgerBalance, LedgerRef, LedgerTransaction, Posting


class CardAccountRepository(Protocol):
    async def add(self, account: CardAccount) -> None: ...

    async def get(self, card_account_id: str, *, for_update: bool = False) -> CardAccount | None: ...

    async def get_by_repayment_reference(self, repayment_reference: str) -> CardAccount | None: ...

    async def update(self, account: CardAccount) -> None: ...

    async def list(self, *, identity_id: str | None, starting_after: str | None, limit: int) -> Sequence[CardAccount]:
        """Up to `limit` card accounts with ids after `starting_after`, in id order."""

    async def opening_older_than(self, moment: datetime, limit: int) -> Sequence[CardAccount]: ...


class CardRepository(Protocol):
    async def add(self, card: Card) -> None: ...

    async def get(self, card_id: str, *, for_update: bool = False) -> Card | None: ...

    async def update(self, card: Card) -> None: ...

    async def list_for_account(
        self, card_account_id: str, *, starting_after: str | None, limit: int
    ) -> Sequence[Card]: ...

    async def lock(self, card_id: str) -> None:
        """Serialise decisions on one card until the transaction ends (daily max, velocity)."""


class AuthorizationRepository(Protocol):
    async def lock_processor_id(self, processor_authorization_id: str) -> None:
        """Serialise requests carrying one processor id until the transaction ends."""

    async def add(self, authorization: Authorization) -> None: ...

    async def get(self, authorization_id: str, *, for_update: bool = False) -> Authorization | None:
        """By our id (`cau_...`)."""

    async def get_by_processor_id(
        self, processor_authorization_id: str, *, for_update: bool = False
    ) -> Authorization | None: ...

    async def update(self, authorization: Authorization) -> None: ...

    async def activity(self, card_id: str, *, day_since: datetime, window_since: datetime) -> CardActivity: ...

    async def list(
        self,
        *,
        processor_authorization_id: str | None,
        card_id: str | None,
        starting_after: str | None,
        limit: int,
    ) -> Sequence[Authorization]: ...

    async def unfinished_older_than(self, moment: datetime, limit: int) -> Sequence[Authorization]:
        """`pending`, `reversing` and `expiring` authorizations last changed before `moment`, oldest first."""

    async def approved_increments(self, authorization_id: str) -> Sequence[Authorization]:
        """The approved incremental authorizations that raised `authorization_id` (ours), oldest first."""

    async def approved_requested_before(self, moment: datetime, limit: int) -> Sequence[Authorization]:
        """Approved authorizations still holding something, requested before `moment`, oldest first."""


class ClearingRepository(Protocol):
    async def lock_processor_id(self, clearing_id: str) -> None:
        """Serialise clearings carrying one processor clearing id until the transaction ends."""

    async def add(self, clearing: Clearing) -> None: ...

    async def get(self, clearing_ref: str, *, for_update: bool = False) -> Clearing | None:
        """By our id (`ccl_...`)."""

    async def get_by_processor_id(self, clearing_id: str, *, for_update: bool = False) -> Clearing | None: ...

    async def update(self, clearing: Clearing) -> None: ...

    async def list(
        self, *, card_id: str | None, clearing_id: str | None, starting_after: str | None, limit: int
    ) -> Sequence[Clearing]: ...

    async def pending_older_than(self, moment: datetime, limit: int) -> Sequence[Clearing]: ...


class BillingRepository(Protocol):
    """Job runs, statements, repayments (rows as dicts; `adapters.billing_repository`)."""

    async def get_run(self, job: str, card_account_id: str, business_date: date) -> dict[str, Any] | None: ...

    async def add_run(
        self, job: str, card_account_id: str, business_date: date, plan: dict[str, Any], now: datetime
    ) -> bool: ...

    async def finish_run(self, job: str, card_account_id: str, business_date: date, now: datetime) -> None: ...

    async def pending_runs_older_than(self, moment: datetime, limit: int) -> list[dict[str, Any]]:
        """`pending` job runs (`job`, `card_account_id`, `business_date`) recorded before `moment`."""

    async def active_account_ids(self, *, starting_after: str, limit: int, cycle_day: int | None) -> list[str]: ...

    async def last_statement(self, card_account_id: str) -> dict[str, Any] | None: ...

    async def statement(self, card_account_id: str, number: int) -> dict[str, Any] | None: ...

    async def statements(self, card_account_id: str, *, after_number: int, limit: int) -> list[dict[str, Any]]: ...

    async def add_statement(self, statement: dict[str, Any]) -> bool: ...

    async def set_statement_status(self, card_account_id: str, number: int, status: str, now: datetime) -> None: ...

    async def unpaid_statements_due_before(self, card_account_id: str, day: date) -> list[dict[str, Any]]: ...

    async def mark_statements_paid(self, card_account_id: str, now: datetime) -> None: ...

    async def unbilled_clearings(self, card_account_id: str) -> list[dict[str, Any]]: ...

    async def bill_clearings(self, card_account_id: str, clearing_ids: Sequence[str], number: int) -> None: ...

    async def repayment_by_reference(
        self, card_account_id: str, reference: str, *, for_update: bool = False
    ) -> dict[str, Any] | None: ...

    async def pending_repayments_older_than(self, moment: datetime, limit: int) -> list[dict[str, Any]]: ...

    async def add_repayment(self, repayment: dict[str, Any]) -> None: ...

    async def repayments_posted_minor(self, card_account_id: str, *, after: datetime | None, until: datetime) -> int:
        """What repayments posted in (`after`, `until`] add up to."""

    async def repayment_posted(self, repayment_id: str, now: datetime, ledger_transaction_id: str) -> bool:
        """Mark a `pending` repayment posted; False when it was not pending (finished meanwhile)."""

    async def add_refused_repayment(self, repayment: dict[str, Any]) -> None:
        """A repayment recorded `refused` with its `reason`: never posted to the ledger."""

    async def list_repayments(
        self, card_account_id: str, *, starting_after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Up to `limit` of the account's repayments with ids after `starting_after`, in id order."""


class EventOutbox(Protocol):
    async def add(self, event: BaseModel) -> str: ...


class Inbox(Protocol):
    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool: ...


class AuthorizationUnitOfWork(Protocol):
    """One transaction over every repository, the outbox and the inbox; leaving it without `commit()` rolls back."""

    @property
    def card_accounts(self) -> CardAccountRepository: ...

    @property
    def cards(self) -> CardRepository: ...

    @property
    def authorizations(self) -> AuthorizationRepository: ...

    @property
    def clearings(self) -> ClearingRepository: ...

    @property
    def events(self) -> EventOutbox: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def billing(self) -> BillingRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class Ledger(Protocol):
    """The ledger calls authorization makes (`clearway.platform.ledger.HttpLedgerClient`)."""

    async def identity_exists(self, identity_id: str) -> bool: ...

    async def create_ledger(
        self, name: str, *, ik: str | None = None, meta_data: dict[str, Any] | None = None
    ) -> LedgerRef: ...

    async def open_account_balance(
        self, *, ledger_id: str, identity_id: str, currency: str, indicator: str, meta_data: dict[str, Any]
    ) -> LedgerBalance: ...

    async def get_balance(self, balance_id: str) -> LedgerBalance | None: ...

    async def post(self, posting: Posting) -> LedgerTransaction: ...

    async def post_with_overdraft_limit(self, posting: Posting, *, overdraft_limit_minor: int) -> LedgerTransaction: ...

    async def post_atomic(
        self, postings: Sequence[Posting], *, overdraft_limits_minor: Mapping[str, int] | None = None
    ) -> AtomicPosting: ...

    async def void_hold(
        self, transaction_id: str, *, reference: str, amount_minor: int | None = None
    ) -> LedgerTransaction: ...

    async def commit_hold(
        self, transaction_id: str, *, reference: str, amount_minor: int | None = None
    ) -> LedgerTransaction: ...

    async def find_transaction(self, reference: str) -> LedgerTransaction | None: ...

    async def post_split(
        self,
        *,
        reference: str,
        currency: str,
        source: str,
        destinations: Sequence[tuple[str, int]],
        allow_overdraft: bool = True,
        description: str = "",
        meta_data: dict[str, Any] | None = None,
    ) -> LedgerTransaction: ...

    async def refund_transaction(self, reference: str, *, refund_reference: str) -> LedgerTransaction | None:
        """Refund the transaction posted under `reference` once (the ledger records the refund under
        `refund_reference`); None when nothing was posted under `reference`."""
