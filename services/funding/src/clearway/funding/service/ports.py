"""What the funding use cases need from storage and from the ledger; adapters implement it,
unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from clearway.funding.domain.deposits import Deposit, PendingLink
from clearway.funding.domain.fundings import Funding
from clearway.funding.domain.payables import Payable
from clearway.funding.domain.workspaces import Workspace

# The ledger's values and errors are the platform's, re-exported for funding's use cases and entrypoints.
from clearway.platform.ledger import REFUSED as REFUSED
from clearway.platform.ledger import LedgerAnswerInvalidError as LedgerAnswerInvalidError
from clearway.platform.ledger import LedgerBalance as LedgerBalance
from clearway.platform.ledger import LedgerRefusedError as LedgerRefusedError
from clearway.platform.ledger import LedgerTransaction as LedgerTransaction
from clearway.platform.ledger import LedgerUnavailableError as LedgerUnavailableError
from clearway.platform.ledger import Posting as Posting


class DepositRepository(Protocol):
    async def add_if_new(self, deposit: Deposit) -> bool:
        """Insert unless `(processor, transfer_id)` exists; True if inserted."""

    async def get(self, deposit_id: str, *, owner_workspace: str | None = None) -> Deposit | None:
        """`owner_workspace`: only a deposit on one of that workspace's receiving accounts."""

    async def get_for_update(self, deposit_id: str) -> Deposit | None: ...

    async def find_by_transfer(
        self, transfer_id: str, processor: str | None, *, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        """The deposits of `transfer_id` (of `processor` when named): one, unless processors collide."""

    async def list(
        self, *, linked: bool | None, starting_after: str | None, limit: int, owner_workspace: str | None = None
    ) -> Sequence[Deposit]:
        """Up to `limit` deposits with ids after `starting_after`, in id order."""

    async def mark_linked(self, deposit_id: str, funding_id: str, now: datetime) -> None: ...

    async def mark_proposed(self, deposit_id: str, funding_id: str, now: datetime) -> None: ...

    async def add_pending_link(self, pending: PendingLink) -> None:
        """Remember a link whose deposit is not recorded yet; the same link again is a no-op."""


class FundingLookup(Protocol):
    """What recording and linking a deposit need of fundings: the invoice a payment reference or an
    id names, and saving it."""

    async def get(self, funding_id: str, *, for_update: bool = False) -> Funding | None: ...

    async def get_by_request_key(self, workspace_id: str, request_key: str) -> Funding | None: ...

    async def find_by_payment_reference(
        self, payment_reference: str, *, for_update: bool = False
    ) -> Funding | None: ...

    async def save(self, funding: Funding) -> None: ...


class WorkspaceLookup(Protocol):
    async def get(self, workspace_id: str) -> Workspace | None: ...


class PayableOutcomes(Protocol):
    """What recording a payout outcome needs of payables: the row, locked, and its payout columns."""

    async def get(self, payable_id: str, *, for_update: bool = False) -> Payable | None: ...

    async def save_payout_outcome(self, payable: Payable) -> None: ...


class Inbox(Protocol):
    async def record_once(self, consumer: str, event_id: str, topic: str) -> bool:
        """True the first time `consumer` sees `event_id`; False on every redelivery."""


class FundingUnitOfWork(Protocol):
    """One transaction over every repository; leaving it without `commit()` rolls back."""

    @property
    def deposits(self) -> DepositRepository: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def payables(self) -> PayableOutcomes: ...

    @property
    def fundings(self) -> FundingLookup: ...

    @property
    def workspaces(self) -> WorkspaceLookup: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


# The other workflows (payables, apart from their payout outcome, fundings, linking after the claim)
# use the full SQL unit of work and are tested against PostgreSQL; the ledger and the invoice
# delivery are ports because tests swap them (an in-process ledger; an SMTP server or none).


class Ledger(Protocol):
    async def identity_exists(self, identity_id: str) -> bool: ...

    async def create_identity(self, *, idempotency_key: str, name: str, meta_data: dict[str, str]) -> str:
        """A new ledger identity; the key makes a retry return the first one."""

    async def ensure_wallet(self, identity_id: str, currency: str) -> LedgerBalance:
        """Get-or-create the `wallet:<identity_id>` balance in `currency`."""

    async def find_wallet(self, identity_id: str, currency: str) -> LedgerBalance | None: ...

    async def post(self, posting: Posting) -> LedgerTransaction:
        """Post once per reference; the same posting again is a replay."""

    async def post_many(self, postings: Sequence[Posting]) -> list[LedgerTransaction]:
        """Each posting once per reference, in as few requests as the ledger's bulk bound allows.

        One result per posting, in order; a posting already applied comes back APPLIED (a replay).
        A posting refused on its own comes back REJECTED or REFUSED; only a request refused as a
        whole raises `LedgerRefusedError`.
        """

    async def commit_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction:
        """Commit a hold in full; raises `LedgerRefusedError` (409) when it is no longer open."""

    async def void_hold(self, transaction_id: str, *, reference: str) -> LedgerTransaction: ...


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    funding: Funding
    pdf: bytes
    document_url: str


class InvoiceDelivery(Protocol):
    @property
    def channel(self) -> str:
        """`email` when it really sends, `event` when the event is the only delivery."""

    async def send(self, document: InvoiceDocument) -> None: ...
