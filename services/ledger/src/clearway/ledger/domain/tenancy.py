"""Who owns what in the ledger, and who may move which money (issue 14 §3).

A ledger belongs to a workspace or, with no workspace, to the platform (the general ledger and
its internal `@Name` balances are the platform's). A caller acts as a `Tenant`: a workspace-scoped
key sees and changes only its own workspace's ledgers and what is inside them; a key with no
workspace (the dev admin key, the services' keys) acts for the platform and sees everything.

Internal balances exist to go negative (`@World` is where money enters the books), so moving
money out of one mints money: that is reserved to service principals (role `service`; admin
holds every role) and the platform's own workflows (Kafka commands, the sweeper), which act as
`PLATFORM`. A workspace-scoped caller without the service role may not name an internal balance
on either side: they are the platform's, not the workspace's.

Another tenant's resource is answered exactly like a missing one (404), never 403, so a key
learns nothing about what other workspaces hold. Pure rules: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clearway.ledger.domain.errors import LedgerError, NotFound
from clearway.ledger.domain.transactions import is_internal_identifier


class InternalBalanceReserved(LedgerError):
    """Moving money out of (or, for a workspace, into) an internal `@` balance without the right."""

    code = "INTERNAL_BALANCE_RESERVED"
    http_status = 403


@dataclass(frozen=True, slots=True)
class Tenant:
    """Who an operation acts for: a workspace (`workspace_id`) or the platform (None)."""

    workspace_id: str | None = None
    may_move_internal: bool = True  # service principals, admin, and the platform's own workflows

    @property
    def is_platform(self) -> bool:
        return self.workspace_id is None

    @property
    def is_unrestricted(self) -> bool:
        """The platform with the right to move internal money: no check applies (the hot path)."""
        return self.workspace_id is None and self.may_move_internal

    def owns(self, workspace_id: str | None) -> bool:
        """Whether a resource owned by `workspace_id` (None: the platform) is visible to this tenant."""
        return self.workspace_id is None or workspace_id == self.workspace_id


# The platform's own workflows: Kafka commands, the expiry and scheduling sweeper, internal callers.
PLATFORM = Tenant()


@dataclass(frozen=True, slots=True)
class BalanceOwner:
    """What tenancy needs to know about a balance: its ledger's workspace, and whether it is internal."""

    workspace_id: str | None
    is_internal: bool


def check_named_internal(tenant: Tenant, debits: Iterable[str], credits: Iterable[str]) -> None:
    """Refuse a request naming internal balances it may not move, before anything is created.

    `debits` and `credits` are the identifiers a request names (`@World-USD`, balance ids).
    """
    if tenant.may_move_internal:
        return
    for identifier in debits:
        if is_internal_identifier(identifier):
            raise _reserved(identifier)
    if not tenant.is_platform:
        for identifier in credits:
            if is_internal_identifier(identifier):
                raise _reserved(identifier)


def check_legs(
    tenant: Tenant, debits: Iterable[str], credits: Iterable[str], owners: Mapping[str, BalanceOwner]
) -> None:
    """Refuse a movement of resolved balance ids the tenant may not make.

    Another workspace's (or the platform's) balance answers as missing (404); an internal balance
    the tenant may not move answers 403 `INTERNAL_BALANCE_RESERVED`. A balance absent from `owners`
    is left to the caller's own not-found check.
    """
    if tenant.is_unrestricted:
        return
    for side_is_debit, balance_ids in ((True, debits), (False, credits)):
        for balance_id in balance_ids:
            owner = owners.get(balance_id)
            if owner is None:
                continue
            if owner.is_internal:
                if not tenant.may_move_internal and (side_is_debit or not tenant.is_platform):
                    raise _reserved(balance_id)
                continue
            if not tenant.owns(owner.workspace_id):
                raise NotFound(f"balance {balance_id} not found", balance_id=balance_id)


def sees_any(tenant: Tenant, balance_ids: Iterable[str], owners: Mapping[str, BalanceOwner]) -> bool:
    """Whether a transaction over `balance_ids` is visible to the tenant: it moves one of its balances.

    The same rule as the SQL filter on transaction reads (`adapters/tenancy_sql.py`).
    """
    if tenant.is_platform:
        return True
    return any(
        (owner := owners.get(balance_id)) is not None and owner.workspace_id == tenant.workspace_id
        for balance_id in balance_ids
    )


def _reserved(identifier: str) -> InternalBalanceReserved:
    return InternalBalanceReserved(
        f"moving money with the internal balance {identifier} is reserved to the platform's services",
        balance=identifier,
    )
