"""Everything an authorization use case may touch, wired once in `main.py` (and by tests with other parts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from clearway.authorization.domain.authorizations import VelocityPolicy
from clearway.authorization.domain.statements import StatementDocument
from clearway.authorization.service.ports import AuthorizationUnitOfWork, Ledger

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy:
    # A `pending` or `reversing` authorization (or an `opening` account) untouched this long lost its
    # request between the ledger call and our commit: the recovery pass finishes it by asking again.
    recovery_grace_ms: int = 5_000
    batch_size_max: int = 50
    velocity: VelocityPolicy = field(default_factory=VelocityPolicy)
    # Approved authorizations requested more than this many days before a business date, never
    # cleared or reversed, are expired by that date's job (their hold voided).
    expiry_days: int = 7


@dataclass(frozen=True, slots=True)
class AuthorizationContext:
    unit_of_work: Callable[[], AuthorizationUnitOfWork]
    ledger: Ledger
    # Lays out a statement as a PDF (`adapters.statement_pdf`); pure CPU work, run off the event loop.
    render_statement: Callable[[StatementDocument], bytes]
    policy: AuthorizationPolicy = field(default_factory=AuthorizationPolicy)
    clock: Clock = utc_now
