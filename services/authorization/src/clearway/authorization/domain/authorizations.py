"""Authorization decisions (seed 002, steps 2-6): card status -> controls -> velocity -> ledger hold.

The first three are decided here, from our own rows; the last by the ledger, which accepts an
inflight hold on card primary only while it stays within the credit limit (its overdraft limit).
An authorization is recorded `pending` (unique on the processor's id) before the hold is asked for,
and `approved` or `declined` after; once decided its answer never changes, so the same processor
authorization id always gets the same decision. Reversals void the hold (`reversing` while the
ledger is asked; the row says what it still holds).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from clearway.authorization.domain.card_accounts import CardAccount
from clearway.authorization.domain.cards import Card, CardStatus
from clearway.authorization.domain.errors import ConflictError, InProgressError, RuleViolationError

AUTHORIZATION_ID_PREFIX = "cau"
BPS_DENOMINATOR = 10_000


class Channel(StrEnum):
    POS = "pos"
    ECOMMERCE = "ecommerce"
    ATM = "atm"


class Decision(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


class Reason(StrEnum):
    INSUFFICIENT_FUNDS = "insufficient_funds"
    CARD_INACTIVE = "card_inactive"
    CONTROL_VIOLATION = "control_violation"
    VELOCITY_EXCEEDED = "velocity_exceeded"
    INVALID_REQUEST = "invalid_request"


class AuthorizationStatus(StrEnum):
    PENDING = "pending"  # recorded; the hold is being asked for
    APPROVED = "approved"  # the hold is open (`held_minor` of it)
    DECLINED = "declined"
    REVERSING = "reversing"  # a reversal is voiding (and maybe re-placing) the hold
    REVERSED = "reversed"  # fully reversed: nothing held
    CLEARING = "clearing"  # a clearing is committing the hold (its row says how)
    CLEARED = "cleared"  # the network's final amount was posted: nothing held
    EXPIRING = "expiring"  # the expiry job is voiding the stale hold
    EXPIRED = "expired"  # never cleared: the hold was voided by the expiry job
    RAISING = "raising"  # an incremental authorization is raising this one's hold


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """The processor's request, from either door (`POST /authorizations` or the Kafka topic)."""

    authorization_id: str  # the processor's id
    card_id: str
    amount_minor: int
    currency: str
    merchant_name: str
    merchant_category_code: str
    channel: Channel
    requested_at: datetime
    # An incremental authorization: the processor's id of the approved authorization whose hold
    # this one raises by `amount_minor` (Visa/Mastercard incremental authorizations, e.g. a hotel
    # or car rental extending a stay). None for an original authorization.
    incremental_of: str | None = None


@dataclass(frozen=True, slots=True)
class VelocityPolicy:
    """At most `count_max` authorizations per card within `window_ms`; None: no velocity limit."""

    count_max: int | None = None
    window_ms: int = 60_000

    @property
    def enabled(self) -> bool:
        return self.count_max is not None


@dataclass(frozen=True, slots=True)
class CardActivity:
    """What the card did recently, counted under the card's lock."""

    spent_today_minor: int  # held or pending, last 24 hours
    recent_count: int  # authorizations within the velocity window


def markup_fee_minor(amount_minor: int, fee_markup_bps: int) -> int:
    """`fee_markup_bps` of the amount in minor units, rounded half up (150 bps of 2,000.00 is 30.00)."""
    assert amount_minor >= 0 and fee_markup_bps >= 0, (amount_minor, fee_markup_bps)
    return (amount_minor * fee_markup_bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR


def expiry_cutoff(business_date: date, expiry_days: int) -> datetime:
    """Approved authorizations requested before this moment are stale on `business_date`: more than
    `expiry_days` days before the business date's start (UTC)."""
    assert expiry_days >= 0, expiry_days
    return datetime.combine(business_date, time.min, tzinfo=UTC) - timedelta(days=expiry_days)


def refusal_before_hold(
    request: AuthorizationRequest,
    card: Card | None,
    account: CardAccount | None,
    activity: CardActivity,
    velocity: VelocityPolicy,
    now: datetime,
) -> Reason | None:
    """Why the request is declined before the ledger is asked, or None (ask for the hold).

    Order: the request itself -> card and account status -> controls -> velocity."""
    if card is None or account is None or request.amount_minor <= 0 or request.currency != account.currency:
        return Reason.INVALID_REQUEST
    if card.status is not CardStatus.ACTIVE or not account.can_authorize or card.expired_at(now):
        return Reason.CARD_INACTIVE
    controls = card.controls
    if request.merchant_category_code in controls.blocked_mccs:
        return Reason.CONTROL_VIOLATION
    if controls.per_transaction_max_minor is not None and request.amount_minor > controls.per_transaction_max_minor:
        return Reason.CONTROL_VIOLATION
    if request.channel is Channel.ATM and not controls.atm_allowed:
        return Reason.CONTROL_VIOLATION
    if (
        controls.daily_max_minor is not None
        and activity.spent_today_minor + request.amount_minor > controls.daily_max_minor
    ):
        return Reason.CONTROL_VIOLATION
    if velocity.count_max is not None and activity.recent_count >= velocity.count_max:
        return Reason.VELOCITY_EXCEEDED
    return None


@dataclass(frozen=True, slots=True)
class Authorization:
    id: str
    authorization_id: str  # the processor's id, unique
    card_id: str
    card_account_id: str | None
    amount_minor: int
    currency: str
    merchant_name: str
    merchant_category_code: str
    channel: Channel
    status: AuthorizationStatus
    decision: Decision | None
    reason: Reason | None
    requested_at: datetime
    # The hold: asked for under `hold_reference(id, 0)` (a raise: `raise_reference`) with this overdraft
    # limit; `hold_generation` numbers the changes to it, so each void or expiry has its own reference.
    overdraft_limit_minor: int | None
    hold_generation: int
    hold_transaction_id: str | None
    held_minor: int  # what the open hold still holds
    fee_minor: int
    available_credit_minor: int | None
    reversing_minor: int  # the reversal in progress (status `reversing`)
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None
    expiry_business_date: date | None = None  # the business date whose expiry job voided (is voiding) the hold
    # Our id of the authorization an incremental one raised (is raising); its hold is that one's, so
    # an incremental authorization itself never holds anything (`held_minor` 0).
    incremental_of: str | None = None
    # On an incremental authorization: what reversals naming it (not its original) released from the
    # original's hold; what is left of it is `amount_minor - reversed_minor`. Always 0 on an original.
    reversed_minor: int = 0

    def __post_init__(self) -> None:
        assert self.id.startswith(f"{AUTHORIZATION_ID_PREFIX}_"), f"not an authorization id: {self.id!r}"
        assert self.updated_at >= self.created_at, "an authorization cannot change before it exists"
        assert 0 <= self.held_minor <= self.amount_minor, (self.held_minor, self.amount_minor)
        decided = self.status is not AuthorizationStatus.PENDING
        assert decided == (self.decision is not None), f"{self.id}: status {self.status} with decision {self.decision}"
        assert (self.decision is Decision.DECLINED) == (self.reason is not None), f"{self.id}: reason {self.reason}"
        if self.status is AuthorizationStatus.REVERSING:
            assert 0 < self.reversing_minor <= self.held_minor, (self.reversing_minor, self.held_minor)
        if self.incremental_of is not None:
            assert self.held_minor == 0, f"{self.id}: an increment holds nothing of its own"
        assert 0 <= self.reversed_minor <= self.amount_minor, (self.reversed_minor, self.amount_minor)
        assert self.incremental_of is not None or self.reversed_minor == 0, f"{self.id}: only an increment"

    @property
    def is_pending(self) -> bool:
        return self.status is AuthorizationStatus.PENDING

    def approved(
        self, hold_transaction_id: str, fee_minor: int, available_credit_minor: int | None, now: datetime
    ) -> Authorization:
        assert self.is_pending, f"{self.id} is {self.status}"
        return replace(
            self,
            status=AuthorizationStatus.APPROVED,
            decision=Decision.APPROVED,
            hold_transaction_id=hold_transaction_id,
            held_minor=self.amount_minor if self.incremental_of is None else 0,
            fee_minor=fee_minor,
            available_credit_minor=available_credit_minor,
            decided_at=now,
            updated_at=max(now, self.created_at),
        )

    def declined(self, reason: Reason, available_credit_minor: int | None, now: datetime) -> Authorization:
        assert self.is_pending, f"{self.id} is {self.status}"
        return replace(
            self,
            status=AuthorizationStatus.DECLINED,
            decision=Decision.DECLINED,
            reason=reason,
            available_credit_minor=available_credit_minor,
            decided_at=now,
            updated_at=max(now, self.created_at),
        )

    def reversal_started(self, amount_minor: int | None, now: datetime) -> Authorization:
        """Ask to release `amount_minor` of the hold (all of it when None)."""
        if self.status is AuthorizationStatus.REVERSING:
            raise InProgressError(f"Authorization {self.id} is being reversed; try again.", code="REVERSAL_IN_PROGRESS")
        if self.status is AuthorizationStatus.RAISING:
            raise InProgressError(
                f"Authorization {self.id} is being raised by an incremental authorization; try again.",
                code="AUTHORIZATION_IN_PROGRESS",
            )
        if self.status is AuthorizationStatus.PENDING:  # a reversal that overtook its decision
            raise InProgressError(
                f"Authorization {self.id} is still being decided; try again.", code="AUTHORIZATION_IN_PROGRESS"
            )
        if self.status is not AuthorizationStatus.APPROVED or self.held_minor == 0:
            raise ConflictError(
                f"Authorization {self.id} is {self.status.value}: nothing is held to reverse.",
                code="AUTHORIZATION_NOT_REVERSIBLE",
            )
        amount = self.held_minor if amount_minor is None else amount_minor
        if amount <= 0 or amount > self.held_minor:
            raise RuleViolationError(
                f"A reversal is 1 to {self.held_minor} minor units (what the hold still holds).",
                code="REVERSAL_EXCEEDS_HOLD",
                held_minor=self.held_minor,
            )
        return replace(
            self, status=AuthorizationStatus.REVERSING, reversing_minor=amount, updated_at=max(now, self.created_at)
        )

    def increment_reversal_started(
        self, original: Authorization, amount_minor: int | None, now: datetime
    ) -> tuple[Authorization, Authorization]:
        """A reversal naming this increment: it acts on the original's combined hold (the increment
        holds nothing itself) but releases only what is left of the increment: all of it when
        `amount_minor` is None (never more than the original still holds), else `amount_minor`, at
        most what is left. -> (this increment with the release counted, the original `reversing`)."""
        assert self.incremental_of is not None and self.incremental_of == original.id, (self.id, original.id)
        if self.is_pending:
            raise InProgressError(
                f"Authorization {self.id} is still being decided; try again.", code="AUTHORIZATION_IN_PROGRESS"
            )
        if self.decision is not Decision.APPROVED:
            raise ConflictError(
                f"Authorization {self.id} was declined: it raised no hold to reverse.",
                code="AUTHORIZATION_NOT_REVERSIBLE",
            )
        left = self.amount_minor - self.reversed_minor
        if left == 0:
            raise ConflictError(
                f"Authorization {self.id} was reversed: nothing of it is left to reverse.",
                code="AUTHORIZATION_NOT_REVERSIBLE",
            )
        if amount_minor is not None and not 0 < amount_minor <= left:
            raise RuleViolationError(
                f"A reversal of incremental authorization {self.id} is 1 to {left} minor units (what is left of it).",
                code="REVERSAL_EXCEEDS_HOLD",
                held_minor=left,
            )
        # The original refuses with its own reasons first (busy, or nothing held any more); releasing 0
        # is asked only when it holds nothing, which it refuses as not reversible.
        requested = amount_minor if amount_minor is not None else min(left, original.held_minor)
        started = original.reversal_started(requested, now)
        counted = replace(
            self, reversed_minor=self.reversed_minor + started.reversing_minor, updated_at=max(now, self.created_at)
        )
        return counted, started

    def reversal_finished(self, now: datetime) -> Authorization:
        """The reversed part is voided; what is left stays in the same hold. The next generation gives
        the next reversal (or expiry) its own void reference."""
        assert self.status is AuthorizationStatus.REVERSING, f"{self.id} is {self.status}"
        remaining = self.held_minor - self.reversing_minor
        return replace(
            self,
            status=AuthorizationStatus.APPROVED if remaining else AuthorizationStatus.REVERSED,
            held_minor=remaining,
            reversing_minor=0,
            hold_generation=self.hold_generation + 1,
            updated_at=max(now, self.created_at),
        )

    @property
    def clearable(self) -> bool:
        """An open hold a clearing can commit."""
        return self.status is AuthorizationStatus.APPROVED and self.held_minor > 0

    @property
    def in_progress(self) -> bool:
        """Being decided, reversed, raised or expired: a clearing waits (the recovery pass finishes these)."""
        return self.status in (
            AuthorizationStatus.PENDING,
            AuthorizationStatus.REVERSING,
            AuthorizationStatus.EXPIRING,
            AuthorizationStatus.RAISING,
        )

    def raise_started(self, now: datetime) -> Authorization:
        """An incremental authorization will ask for a larger hold: nothing else touches this one meanwhile."""
        assert self.clearable and self.incremental_of is None, f"{self.id} is {self.status} holding {self.held_minor}"
        return replace(self, status=AuthorizationStatus.RAISING, updated_at=max(now, self.created_at))

    def raised(self, increment_minor: int, new_hold_transaction_id: str, now: datetime) -> Authorization:
        """The larger hold (the next generation) replaced the old one: the authorization is for more."""
        assert self.status is AuthorizationStatus.RAISING and increment_minor > 0, (self.status, increment_minor)
        return replace(
            self,
            status=AuthorizationStatus.APPROVED,
            amount_minor=self.amount_minor + increment_minor,
            held_minor=self.held_minor + increment_minor,
            hold_generation=self.hold_generation + 1,
            hold_transaction_id=new_hold_transaction_id,
            updated_at=max(now, self.created_at),
        )

    def raise_refused(self, now: datetime) -> Authorization:
        """The ledger refused the larger hold: the original hold stands as it was."""
        assert self.status is AuthorizationStatus.RAISING, f"{self.id} is {self.status}"
        return replace(self, status=AuthorizationStatus.APPROVED, updated_at=max(now, self.created_at))

    def clearing_started(self, now: datetime) -> Authorization:
        assert self.clearable, f"{self.id} is {self.status} holding {self.held_minor}"
        return replace(self, status=AuthorizationStatus.CLEARING, updated_at=max(now, self.created_at))

    def cleared(self, now: datetime) -> Authorization:
        assert self.status is AuthorizationStatus.CLEARING, f"{self.id} is {self.status}"
        return replace(self, status=AuthorizationStatus.CLEARED, held_minor=0, updated_at=max(now, self.created_at))

    def expiry_started(self, business_date: date, now: datetime) -> Authorization:
        assert self.clearable, f"{self.id} is {self.status} holding {self.held_minor}"
        return replace(
            self,
            status=AuthorizationStatus.EXPIRING,
            expiry_business_date=business_date,
            updated_at=max(now, self.created_at),
        )

    def expired(self, now: datetime) -> Authorization:
        assert self.status is AuthorizationStatus.EXPIRING, f"{self.id} is {self.status}"
        return replace(self, status=AuthorizationStatus.EXPIRED, held_minor=0, updated_at=max(now, self.created_at))

    @property
    def remaining_after_reversal_minor(self) -> int:
        assert self.status is AuthorizationStatus.REVERSING
        return self.held_minor - self.reversing_minor


def pending_authorization(
    authorization_ref: str,
    request: AuthorizationRequest,
    account: CardAccount | None,
    now: datetime,
    *,
    incremental_of: str | None = None,
) -> Authorization:
    """The request recorded before its hold is asked for (`authorization_ref` is our new id)."""
    return Authorization(
        id=authorization_ref,
        authorization_id=request.authorization_id,
        card_id=request.card_id,
        card_account_id=account.id if account is not None else None,
        amount_minor=request.amount_minor,
        currency=request.currency,
        merchant_name=request.merchant_name,
        merchant_category_code=request.merchant_category_code,
        channel=request.channel,
        status=AuthorizationStatus.PENDING,
        decision=None,
        reason=None,
        requested_at=request.requested_at,
        overdraft_limit_minor=account.credit_limit_minor if account is not None else None,
        hold_generation=0,
        hold_transaction_id=None,
        held_minor=0,
        fee_minor=0,
        available_credit_minor=None,
        reversing_minor=0,
        created_at=now,
        updated_at=now,
        incremental_of=incremental_of,
    )
