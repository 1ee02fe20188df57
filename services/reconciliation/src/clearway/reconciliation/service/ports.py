"""What the reconciliation use cases need from the ledger (the SQL unit of work is the adapters' one,
as in funding: the use cases are tested against real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from clearway.platform.ledger import LedgerAccount, LedgerRef, LedgerTransaction, SchemaEntry


class Ledger(Protocol):
    async def get_ledger(self, ledger_id: str) -> LedgerRef | None: ...

    async def install_shipped_schema(self, ledger_id: str, key: str) -> None: ...

    async def post_entry(
        self,
        ledger_id: str,
        *,
        type: str,
        ik: str,
        parameters: Mapping[str, str | int],
        currency: str | None = None,
        description: str = "",
    ) -> SchemaEntry: ...

    async def reconcile(
        self,
        ledger_id: str,
        *,
        type: str,
        ik: str,
        parameters: Mapping[str, str | int],
        external_transaction: Mapping[str, Any],
        currency: str | None = None,
        description: str = "",
    ) -> SchemaEntry: ...

    async def reverse_entry(self, ledger_id: str, ik: str) -> SchemaEntry: ...

    async def get_entry(self, ledger_id: str, ik: str) -> SchemaEntry | None: ...

    async def list_accounts(
        self,
        ledger_id: str,
        *,
        clearing_status: str | None = None,
        path: str | None = None,
        currency: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> tuple[list[LedgerAccount], bool]: ...

    async def find_transaction(self, reference: str) -> LedgerTransaction | None: ...
