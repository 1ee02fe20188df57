"""Workspaces: the payer side. Funding keeps only what the ledger cannot: which ledger identity
holds a workspace's wallet, and the workspace's funding preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# The dev admin key and other keys without a workspace act for this one.
DEFAULT_WORKSPACE_ID = "default"


def workspace_of(principal_workspace_id: str | None) -> str:
    return principal_workspace_id or DEFAULT_WORKSPACE_ID


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    ledger_identity_id: str | None
    auto_link_deposits: bool
    created_at: datetime
    updated_at: datetime
    # The accounts whose deposits are this workspace's (`transfer.created`'s `account_id`).
    receiving_account_ids: tuple[str, ...] = ()
