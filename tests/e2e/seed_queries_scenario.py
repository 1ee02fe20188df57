"""Seed 003's four FRAGMENT queries, verbatim, over the running platform (`test_reconciliation_flows.py`).

A run on the seed's ledger ik (`ledger_123`): a user funded; a bank line nobody expects (so
`UnreconciledPayments` shows it); a payment out initiated (so `PendingPayments` and
`PendingWithdrawals` show its clearing account); a bulk receipt's clearing account (the
`PendingBulkReceivables` filter). Then each is reconciled, and the queries no longer show them.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from clearway.reconciliation.entrypoints.seed_queries import (
    PENDING_BULK_RECEIVABLES,
    PENDING_PAYMENTS,
    PENDING_WITHDRAWALS,
    SEED_LEDGER_IK,
    UNRECONCILED_PAYMENTS,
)

from .settlement_scenario import HEADER, USERS, ok


class SeedQueryChecks:
    def __init__(self, ledger: httpx.AsyncClient, recon: httpx.AsyncClient) -> None:
        self.ledger, self.recon = ledger, recon
        self.run_id = uuid.uuid4().hex[:8]

    async def _query(self, query: str) -> dict[str, Any]:
        document = ok(await self.recon.post("/graphql", json={"query": query}), 200)
        if document.get("errors"):
            raise AssertionError(f"the seed's query failed: {document['errors']}")
        data: dict[str, Any] = document["data"]
        return data

    async def _unreconciled_ids(self) -> set[str]:
        data = await self._query(UNRECONCILED_PAYMENTS)
        return {node["externalId"] for node in data["ledgerAccount"]["unreconciledTxs"]["nodes"]}

    async def _pending_paths(self, query: str) -> set[str]:
        data = await self._query(query)
        nodes = data["ledger"]["ledgerAccounts"]["nodes"]
        if any(node["clearingStatus"] != "pending" or not isinstance(node["ownBalance"], str) for node in nodes):
            raise AssertionError(f"not FRAGMENT's shape (pending, amounts as strings): {nodes}")
        return {node["path"] for node in nodes}

    async def _statement(self, link_id: str, *lines: tuple[str, int, str, str]) -> None:
        rows = "".join(f"2026-11-29,{d},{a},KES,{r},{e},{r}\n" for d, a, r, e in lines)
        ok(await self.recon.post(f"/links/{link_id}/statements", params={"format": "csv"}, content=HEADER + rows), 201)

    async def _expect(self, link_id: str, **body: Any) -> dict[str, Any]:
        return ok(await self.recon.post("/expectations", json={"link_id": link_id, "currency": "KES", **body}), 201)

    async def run(self) -> None:
        run, user = self.run_id, f"{USERS}:seedq_{self.run_id}"
        books = ok(await self.ledger.post("/ledgers", json={"name": "Seed 003", "ik": SEED_LEDGER_IK}), 200, 201)
        link = ok(
            await self.recon.post(
                "/links",
                json={
                    "name": f"seed 003 {run}",
                    "kind": "bank_statement",
                    "ledger_id": books["ledger_id"],
                    "currency": "KES",
                },
            ),
            201,
        )
        await self._expect(
            link["id"], direction="inbound", amount_minor=5_000, reference=f"Q-IN-{run}", account_path=user
        )
        await self._statement(link["id"], ("inbound", 5_000, f"Q-IN-{run}", f"q-in-{run}"))
        await self._statement(link["id"], ("inbound", 333, f"Q-ODD-{run}", f"q-odd-{run}"))
        payment = await self._expect(
            link["id"], direction="outbound", amount_minor=700, reference=f"Q-OUT-{run}", account_path=user
        )
        pending_path = f"liabilities/pending_withdrawals:{payment['source_id'] or payment['id']}"

        if f"q-odd-{run}" not in await self._unreconciled_ids():
            raise AssertionError("UnreconciledPayments does not show the line nobody expected")
        if f"q-in-{run}" in await self._unreconciled_ids():
            raise AssertionError("UnreconciledPayments shows a reconciled line")
        for query in (PENDING_PAYMENTS, PENDING_WITHDRAWALS):
            if pending_path not in await self._pending_paths(query):
                raise AssertionError(f"{query.split()[1]} does not show {pending_path}")
        bulk = await self._pending_paths(PENDING_BULK_RECEIVABLES)
        if bulk - {"liabilities/bulk_receivables"}:
            raise AssertionError(f"PendingBulkReceivables matched other paths: {bulk}")

        # Everything this run left open is reconciled: the odd line explained, the payment settled.
        await self._expect(
            link["id"], direction="inbound", amount_minor=333, reference=f"Q-ODD-{run}", account_path=user
        )
        await self._statement(link["id"], ("outbound", 700, f"Q-OUT-{run}", f"q-out-{run}"))
        if f"q-odd-{run}" in await self._unreconciled_ids():
            raise AssertionError("UnreconciledPayments still shows the explained line")
        for query in (PENDING_PAYMENTS, PENDING_WITHDRAWALS):
            if pending_path in await self._pending_paths(query):
                raise AssertionError(f"{query.split()[1]} still shows the settled payment's {pending_path}")
