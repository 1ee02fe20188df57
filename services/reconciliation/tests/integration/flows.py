"""Helpers the reconciliation flow tests share: a ledger with a link, statements, and reading the
ledger's accounts back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

CSV_HEADER = "booked_on,direction,amount_minor,currency,reference,external_id,description\n"


async def new_link(
    client: httpx.AsyncClient, ledger: httpx.AsyncClient, *, currency: str = "KES", **extra: Any
) -> dict[str, Any]:
    created = await ledger.post("/ledgers", json={"name": f"recon {uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    body = {
        "name": "Operating account",
        "kind": "bank_statement",
        "ledger_id": created.json()["ledger_id"],
        "cash_account_path": "assets/operating",
        "currency": currency,
        **extra,
    }
    response = await client.post("/links", json=body)
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


def csv_statement(*lines: tuple[str, int, str | None, str]) -> bytes:
    """(direction, amount_minor, reference, external_id) lines booked today, in KES."""
    rows = [f"2026-11-29,{d},{a},KES,{r or ''},{e},line {e}\n" for d, a, r, e in lines]
    return (CSV_HEADER + "".join(rows)).encode()


async def import_csv(client: httpx.AsyncClient, link_id: str, body: bytes) -> dict[str, Any]:
    response = await client.post(
        f"/links/{link_id}/statements", params={"format": "csv"}, content=body, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def expect(client: httpx.AsyncClient, link_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/expectations", json={"link_id": link_id, "currency": "KES", **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def account(ledger: httpx.AsyncClient, ledger_id: str, path: str) -> dict[str, Any] | None:
    response = await ledger.get(f"/ledgers/{ledger_id}/accounts", params={"path": path, "limit": 100})
    assert response.status_code == 200, response.text
    for item in response.json()["data"]:
        if item["path"] == path:
            found: dict[str, Any] = item
            return found
    return None


async def balance(ledger: httpx.AsyncClient, ledger_id: str, path: str) -> int:
    found = await account(ledger, ledger_id, path)
    return int(found["own_balance_minor"]) if found else 0


async def unreconciled(client: httpx.AsyncClient, link_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await client.get("/unreconciled", params={"link_id": link_id})).json()["data"]
    return data
