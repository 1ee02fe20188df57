"""Workspaces: their settings, and their ledger identity (created once, on first need)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from clearway.funding.domain.errors import ConflictError
from clearway.funding.domain.workspaces import Workspace
from clearway.funding.service.context import FundingContext
from clearway.funding.service.ports import LedgerBalance


async def get_workspace(context: FundingContext, workspace_id: str) -> Workspace:
    async with context.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure(
            workspace_id, auto_link_deposits=context.auto_link_deposits_default, now=context.clock()
        )
        await uow.commit()
    return workspace


async def workspace_settings(context: FundingContext, workspace_id: str) -> Workspace:
    """The workspace as `GET /workspace` shows it: with its receiving accounts."""
    workspace = await get_workspace(context, workspace_id)
    async with context.unit_of_work() as uow:
        accounts = await uow.workspaces.receiving_accounts(workspace_id)
    return replace(workspace, receiving_account_ids=accounts)


async def update_settings(
    context: FundingContext,
    workspace_id: str,
    *,
    auto_link_deposits: bool | None = None,
    receiving_account_ids: Sequence[str] | None = None,
) -> Workspace:
    """Set what is given, in one transaction; `receiving_account_ids` replaces the list, and an
    account another workspace receives on is refused (nothing changes then)."""
    async with context.unit_of_work() as uow:
        now = context.clock()
        await uow.workspaces.ensure(workspace_id, auto_link_deposits=context.auto_link_deposits_default, now=now)
        if receiving_account_ids is not None:
            taken = await uow.workspaces.set_receiving_accounts(workspace_id, sorted(set(receiving_account_ids)), now)
            if taken:
                raise ConflictError(
                    "Another workspace receives on these accounts.", code="RECEIVING_ACCOUNT_TAKEN", account_ids=taken
                )
        if auto_link_deposits is not None:
            await uow.workspaces.set_auto_link(workspace_id, auto_link_deposits, now)
        await uow.commit()
    return await workspace_settings(context, workspace_id)


async def workspace_identity(context: FundingContext, workspace_id: str) -> str:
    """The workspace's ledger identity. The ledger call runs outside any transaction; its
    Idempotency-Key makes a retry after a crash return the identity created the first time."""
    workspace = await get_workspace(context, workspace_id)
    if workspace.ledger_identity_id is not None:
        return workspace.ledger_identity_id
    # Keyed by this workspace row (its creation time), so a retry finds the same identity while a
    # workspace recreated in a fresh database gets a new one.
    identity_id = await context.ledger.create_identity(
        idempotency_key=f"funding:workspace:{workspace_id}:{workspace.created_at.isoformat()}:identity",
        name=f"Workspace {workspace_id}",
        meta_data={"workspace_id": workspace_id, "owner": "funding"},
    )
    async with context.unit_of_work() as uow:
        stored = await uow.workspaces.set_identity_once(workspace_id, identity_id, context.clock())
        await uow.commit()
    assert stored.ledger_identity_id is not None
    return stored.ledger_identity_id


async def workspace_wallet(context: FundingContext, workspace_id: str, currency: str) -> LedgerBalance:
    identity_id = await workspace_identity(context, workspace_id)
    return await context.ledger.ensure_wallet(identity_id, currency)


async def existing_workspace_wallet(context: FundingContext, workspace_id: str, currency: str) -> LedgerBalance | None:
    """The wallet if the workspace ever had one in `currency`; never creates anything."""
    async with context.unit_of_work() as uow:
        workspace = await uow.workspaces.get(workspace_id)
    if workspace is None or workspace.ledger_identity_id is None:
        return None
    return await context.ledger.find_wallet(workspace.ledger_identity_id, currency)
