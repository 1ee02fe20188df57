"""Dual approval (seed 001's admin settlement flow): one principal asks, a different one decides.

Every step is kept as an audit entry (who, which key, when), readable with the request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from clearway.payout.domain.errors import ConflictError, ForbiddenError

APPROVAL_REQUEST_ID_PREFIX = "apr"
AUDIT_ENTRY_ID_PREFIX = "aud"
REASON_LENGTH_MAX = 500


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: the principal's name (an API key's configured name, or `user:<id>`) and roles."""

    name: str
    roles: tuple[str, ...]


SYSTEM_ACTOR = Actor(name="system:payable-auto-approval", roles=())


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str
    withdrawal_id: str
    status: ApprovalStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None

    def approved_by(self, actor: Actor, now: datetime) -> ApprovalRequest:
        self._require_open_for(actor)
        return replace(self, status=ApprovalStatus.APPROVED, decided_by=actor.name, decided_at=now)

    def rejected_by(self, actor: Actor, reason: str, now: datetime) -> ApprovalRequest:
        self._require_open_for(actor)
        return replace(self, status=ApprovalStatus.REJECTED, decided_by=actor.name, decided_at=now, reason=reason)

    def _require_open_for(self, actor: Actor) -> None:
        if self.status is not ApprovalStatus.PENDING:
            raise ConflictError(
                f"Approval request {self.id} is already {self.status.value}.",
                code="APPROVAL_REQUEST_DECIDED",
                current_status=self.status.value,
            )
        if actor.name == self.requested_by:
            raise ForbiddenError(
                "The principal that requested the settlement cannot also decide it.", code="SAME_APPROVER"
            )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: str
    entity_type: str
    entity_id: str
    action: str
    actor: str
    actor_roles: tuple[str, ...]
    at: datetime
    detail: dict[str, Any]
