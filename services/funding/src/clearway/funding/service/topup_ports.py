"""What the top-up use cases need from storage and from the ledger; adapters implement it, unit tests fake it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from pydantic import BaseModel

from clearway.funding.domain.topups import Topup


class TopupRepository(Protocol):
    async def add(self, topup: Topup) -> bool:
        """Insert unless `(workspace_id, idempotency_key)` exists; True if inserted."""

    async def get(self, topup_id: str) -> Topup | None: ...

    async def get_by_idempotency_key(self, workspace_id: str, idempotency_key: str) -> Topup | None: ...

    async def get_by_checkout_request_id(self, checkout_request_id: str, *, for_update: bool) -> Topup | None:
        """With `for_update`, the row stays locked until the unit of work ends."""

    async def get_for_update(self, topup_id: str) -> Topup | None: ...

    async def update(self, topup: Topup) -> None: ...

    async def lock_due_for_status_check(self, now: datetime, limit: int) -> Sequence[Topup]:
        """Pending top-ups whose check is due, oldest first, locked; rows another worker holds are skipped."""


class TopupEvents(Protocol):
    async def publish(self, topic: str, key: str, event: BaseModel) -> None:
        """Add the event to the transactional outbox: it is published only if the unit of work commits."""


class TopupUnitOfWork(Protocol):
    """One transaction; leaving it without `commit()` rolls back."""

    @property
    def topups(self) -> TopupRepository: ...

    @property
    def events(self) -> TopupEvents: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class LedgerUnavailable(Exception):
    """The ledger did not answer (after bounded retries): nothing is known to have changed; retry later."""


class WalletOwnerUnknown(Exception):
    """The ledger has no identity with this id, so it cannot hold a wallet."""


class LedgerRefused(Exception):
    """The ledger answered and refused the posting (a bug or a misconfiguration, never a customer error)."""


@dataclass(frozen=True, slots=True)
class WalletCredit:
    """Move `amount_minor` from the provider's collection balance into a wallet, once per `reference`."""

    reference: str
    source: str  # e.g. `@MobileMoney-sandbox-KES`, an internal balance that may go negative
    destination_balance_id: str
    amount_minor: int
    currency: str
    description: str
    meta_data: dict[str, str]

    def __post_init__(self) -> None:
        assert self.reference and self.source.startswith("@") and self.destination_balance_id
        assert self.amount_minor > 0


class WalletLedger(Protocol):
    async def ensure_wallet(self, identity_id: str, currency: str) -> str:
        """The balance id of `wallet:<identity_id>` in `currency`, created on first use."""

    async def credit_wallet(self, credit: WalletCredit) -> str:
        """Post the credit (a replay of the same reference is the same transaction); -> transaction id."""
