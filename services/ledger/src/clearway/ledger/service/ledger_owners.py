"""Which workspace owns a ledger, cached: the tenancy check of every ledger-scoped route.

Ownership is written once, when the ledger is created, and never changes (nothing updates
`ledgers.workspace_id` and ledgers are never deleted), so a ledger's owner read once is true for
the life of the database, across restarts and ledger instances: caching it is safe and saves
the schema and entry routes (an entry is posted per payment) a round trip per call. Only found
ledgers are cached: a ledger missing now may be created a moment later.
"""

from __future__ import annotations

from collections import OrderedDict

import asyncpg

from clearway.ledger.adapters.repository import CatalogRepository
from clearway.ledger.domain.errors import NotFound
from clearway.ledger.domain.tenancy import Tenant

OWNERS_CACHE_SIZE_MAX = 100_000

# ledger_id -> workspace_id (None: the platform's). Ledger ids are random (`new_id`), so one
# process serving several databases (the tests) cannot confuse two ledgers.
_owners: OrderedDict[str, str | None] = OrderedDict()


async def check_ledger_visible(pool: asyncpg.Pool, tenant: Tenant, ledger_id: str) -> None:
    """Raise 404 unless `tenant` may see the ledger. The platform sees every ledger and is not
    checked at all: its calls answer exactly as before (a missing ledger in each route's own words)."""
    if tenant.is_platform:
        return
    if ledger_id in _owners:
        _owners.move_to_end(ledger_id)
        workspace_id = _owners[ledger_id]
    else:
        async with pool.acquire() as connection:
            row = await CatalogRepository(connection).get_ledger(ledger_id)
        if row is None:
            raise NotFound(f"ledger {ledger_id} not found", ledger_id=ledger_id)
        workspace_id = remember_owner(ledger_id, row["workspace_id"])
    if not tenant.owns(workspace_id):
        raise NotFound(f"ledger {ledger_id} not found", ledger_id=ledger_id)


def remember_owner(ledger_id: str, workspace_id: str | None) -> str | None:
    _owners[ledger_id] = workspace_id
    if len(_owners) > OWNERS_CACHE_SIZE_MAX:
        _owners.popitem(last=False)
    return workspace_id
