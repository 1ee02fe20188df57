"""Expectations: what the platform knows should move on a link (a funding invoice's deposit, a
submitted payout, a bulk receipt to split), before the bank says it did.

Outbound expectations start seed 003's initiation phase at once (`initiate_payment`: the user's
balance moves to a pending clearing account); matching settles it. Inbound ones post on the match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from clearway.reconciliation.domain.errors import InvalidRequestError
from clearway.reconciliation.domain.external_transactions import Direction

EXPECTATION_ID_PREFIX = "exp"
USER_BALANCE_PREFIX = "liabilities/user_balances:"
# A card network's settlement file splits its total across clearings (seed 003's batches of batches).
CARD_CLEARING_PREFIX = "liabilities/pending_clearings:"
CARD_SETTLEMENT_SOURCE = "card_settlement"
# Made by the route rule for inbound money on a single-purpose route's link (one per transaction).
ROUTE_SOURCE = "route"
UNALLOCATED_USER = "unallocated"
ITEMS_MAX = 1_000


class ExpectationStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CANCELLED = "cancelled"


class InitiationStatus(StrEnum):
    NONE = "none"  # inbound: nothing is posted before the money arrives
    PENDING = "pending"  # outbound: initiate_payment not posted yet
    POSTED = "posted"
    REVERSED = "reversed"  # cancelled after initiation


@dataclass(frozen=True, slots=True)
class ExpectationItem:
    account_path: str
    amount_minor: int


def user_of(account_path: str | None) -> str:
    """The `user_id` parameter of seed 003's entry types: `liabilities/user_balances:<user>`."""
    if account_path is None:
        return UNALLOCATED_USER
    if not account_path.startswith(USER_BALANCE_PREFIX) or len(account_path) == len(USER_BALANCE_PREFIX):
        raise InvalidRequestError(
            f"account_path must be {USER_BALANCE_PREFIX}<user id>; got {account_path[:80]!r}",
            code="ACCOUNT_PATH_UNSUPPORTED",
        )
    return account_path[len(USER_BALANCE_PREFIX) :]


def clearing_of(account_path: str) -> str:
    """The `clearing_id` of a card settlement's item: `liabilities/pending_clearings:<clearing id>`."""
    if not account_path.startswith(CARD_CLEARING_PREFIX) or len(account_path) == len(CARD_CLEARING_PREFIX):
        raise InvalidRequestError(
            f"a card settlement's items are {CARD_CLEARING_PREFIX}<clearing id>; got {account_path[:80]!r}",
            code="ACCOUNT_PATH_UNSUPPORTED",
        )
    return account_path[len(CARD_CLEARING_PREFIX) :]


@dataclass(frozen=True, slots=True)
class NewExpectation:
    link_id: str
    direction: Direction
    amount_minor: int
    currency: str
    reference: str | None
    source: str  # "api", "funding", "payout"
    source_id: str | None = None
    expected_on: date | None = None
    account_path: str | None = None
    items: tuple[ExpectationItem, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.amount_minor <= 0:
            raise InvalidRequestError("amount_minor must be positive", code="INVALID_AMOUNT")
        user_of(self.account_path)
        if self.items:
            if self.direction != "inbound":
                raise InvalidRequestError("items split an inbound bulk payment only", code="ITEMS_INBOUND_ONLY")
            if len(self.items) > ITEMS_MAX:
                raise InvalidRequestError(f"at most {ITEMS_MAX} items", code="TOO_MANY_ITEMS")
            if sum(item.amount_minor for item in self.items) != self.amount_minor:
                raise InvalidRequestError(
                    "items must add up to amount_minor (seed 003: all splits add up to the received amount)",
                    code="ITEMS_DO_NOT_ADD_UP",
                )
            for item in self.items:
                if self.source == CARD_SETTLEMENT_SOURCE:
                    clearing_of(item.account_path)
                else:
                    user_of(item.account_path)
                if item.amount_minor <= 0:
                    raise InvalidRequestError("item amounts must be positive", code="INVALID_AMOUNT")


@dataclass(frozen=True, slots=True)
class Expectation:
    id: str
    link_id: str
    direction: Direction
    amount_minor: int
    currency: str
    reference: str | None
    expected_on: date | None
    account_path: str | None
    items: tuple[ExpectationItem, ...]
    source: str
    source_id: str | None
    status: ExpectationStatus
    match_id: str | None
    initiation_ik: str | None
    initiation_status: InitiationStatus
    created_at: datetime
    updated_at: datetime
    batch_id: str | None = None  # an outbound payment that joined a batch (seed 003's prepare_batch)

    @property
    def is_card_settlement(self) -> bool:
        return self.source == CARD_SETTLEMENT_SOURCE

    @property
    def user_id(self) -> str:
        return user_of(self.account_path)

    @property
    def payment_id(self) -> str:
        """The `payment_id` of seed 003's pending clearing account for this payment."""
        return self.source_id or self.id


def new_expectation(command: NewExpectation, *, expectation_id: str, now: datetime) -> Expectation:
    outbound = command.direction == "outbound"
    return Expectation(
        id=expectation_id,
        link_id=command.link_id,
        direction=command.direction,
        amount_minor=command.amount_minor,
        currency=command.currency,
        reference=command.reference,
        expected_on=command.expected_on,
        account_path=command.account_path,
        items=command.items,
        source=command.source,
        source_id=command.source_id,
        status=ExpectationStatus.OPEN,
        match_id=None,
        initiation_ik=f"recon:{expectation_id}:initiate" if outbound else None,
        initiation_status=InitiationStatus.PENDING if outbound else InitiationStatus.NONE,
        created_at=now,
        updated_at=now,
    )
