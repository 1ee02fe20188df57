"""Cards: the plastic (or token) of a card account, its status and spend controls.

Never a PAN: a card is known by our id, its last four digits and its expiry. Anything that looks
like a card number (twelve or more digits in a row) is refused before it can be stored or logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from clearway.authorization.domain.errors import ConflictError, RuleViolationError

CARD_ID_PREFIX = "crd"
LAST_FOUR_PATTERN = re.compile(r"^[0-9]{4}$")
EXPIRES_PATTERN = re.compile(r"^(0[1-9]|1[0-2])/([0-9]{2})$")
# A PAN is 12 to 19 digits; spaces and dashes between groups are how people write them.
PAN_PATTERN = re.compile(r"[0-9](?:[ -]?[0-9]){11,18}")
MCC_PATTERN = re.compile(r"^[0-9]{4}$")
BLOCKED_MCCS_MAX = 200


class CardStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CardControls:
    blocked_mccs: tuple[str, ...] = ()
    per_transaction_max_minor: int | None = None
    daily_max_minor: int | None = None
    atm_allowed: bool = True

    def __post_init__(self) -> None:
        assert all(MCC_PATTERN.match(mcc) for mcc in self.blocked_mccs), self.blocked_mccs


@dataclass(frozen=True, slots=True)
class IssueCard:
    card_account_id: str
    last_four: str
    expires: str
    controls: CardControls = field(default_factory=CardControls)


@dataclass(frozen=True, slots=True)
class UpdateCard:
    status: CardStatus | None = None
    controls: CardControls | None = None


def refuse_pan(*values: str) -> None:
    for value in values:
        if PAN_PATTERN.search(value):
            raise RuleViolationError(
                "This looks like a card number (PAN). Clearway never stores one: send the last four digits only.",
                code="PAN_NOT_ALLOWED",
            )


def check_controls(controls: CardControls) -> None:
    if len(controls.blocked_mccs) > BLOCKED_MCCS_MAX:
        raise RuleViolationError(f"At most {BLOCKED_MCCS_MAX} blocked MCCs.", code="CONTROLS_INVALID")
    for name, value in (
        ("per_transaction_max_minor", controls.per_transaction_max_minor),
        ("daily_max_minor", controls.daily_max_minor),
    ):
        if value is not None and value <= 0:
            raise RuleViolationError(f"{name} is a positive amount when set.", code="CONTROLS_INVALID")


def parse_expires(expires: str, now: datetime) -> tuple[int, int]:
    """`MM/YY` -> (month, four-digit year); a card that expired before this month is refused."""
    refuse_pan(expires)
    matched = EXPIRES_PATTERN.match(expires)
    if matched is None:
        raise RuleViolationError("expires is MM/YY, e.g. 09/29.", code="EXPIRY_INVALID")
    month, year = int(matched.group(1)), 2000 + int(matched.group(2))
    if (year, month) < (now.year, now.month):
        raise RuleViolationError("This card has already expired.", code="CARD_EXPIRED")
    return month, year


def check_last_four(last_four: str) -> None:
    refuse_pan(last_four)
    if not LAST_FOUR_PATTERN.match(last_four):
        raise RuleViolationError("last_four is the card number's last four digits.", code="LAST_FOUR_INVALID")


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    card_account_id: str
    last_four: str
    expires_month: int
    expires_year: int
    status: CardStatus
    controls: CardControls
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{CARD_ID_PREFIX}_"), f"not a card id: {self.id!r}"
        assert LAST_FOUR_PATTERN.match(self.last_four), "a card stores its last four digits only"
        assert 1 <= self.expires_month <= 12, self.expires_month
        assert self.updated_at >= self.created_at, "a card cannot change before it exists"

    @property
    def expires(self) -> str:
        return f"{self.expires_month:02d}/{self.expires_year % 100:02d}"

    def expired_at(self, now: datetime) -> bool:
        return (now.year, now.month) > (self.expires_year, self.expires_month)

    def updated(self, change: UpdateCard, now: datetime) -> Card:
        if self.status is CardStatus.CLOSED:
            raise ConflictError(f"Card {self.id} is closed; a closed card does not change.", code="CARD_CLOSED")
        if change.controls is not None:
            check_controls(change.controls)
        return replace(
            self,
            status=change.status or self.status,
            controls=change.controls or self.controls,
            updated_at=max(now, self.created_at),
        )
