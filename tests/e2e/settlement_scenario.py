"""Seed 003's settlement flows a finance team drives from outside the platform, on a link of their
own: a batch send with one payment cancelled before batching and one after, the batch reversed by
the bank after settlement, and a card network's three-level settlement (settlement file, clearing
files, the bank's payment). Each ends with nothing unreconciled and no clearing account pending.

Shared by `test_reconciliation_flows.py` and, through `reconciliation_scenario.py`, `demo.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

Report = Callable[[str], None]
USERS = "liabilities/user_balances"
HEADER = "booked_on,direction,amount_minor,currency,reference,external_id,description\n"


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in statuses:
        raise AssertionError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    body: dict[str, Any] = response.json()
    return body


async def _link(ledger: httpx.AsyncClient, recon: httpx.AsyncClient, kind: str, run_id: str) -> dict[str, Any]:
    books = ok(await ledger.post("/ledgers", json={"name": f"{kind} {run_id}", "ik": f"{kind}-{run_id}"}), 200, 201)
    body = {"name": kind, "kind": kind, "ledger_id": books["ledger_id"], "currency": "KES"}
    return ok(await recon.post("/links", json=body), 201)


async def _statement(recon: httpx.AsyncClient, link_id: str, *lines: tuple[str, int, str, str]) -> None:
    rows = "".join(f"2026-11-29,{d},{a},KES,{r},{e},{r}\n" for d, a, r, e in lines)
    ok(await recon.post(f"/links/{link_id}/statements", params={"format": "csv"}, content=HEADER + rows), 201)


async def _balance(ledger: httpx.AsyncClient, ledger_id: str, path: str) -> int:
    found = ok(await ledger.get(f"/ledgers/{ledger_id}/accounts", params={"path": path}), 200)["data"]
    return int(found[0]["own_balance_minor"]) if found else 0


async def _settled_books(ledger: httpx.AsyncClient, recon: httpx.AsyncClient, link: dict[str, Any]) -> None:
    unreconciled = ok(await recon.get("/unreconciled", params={"link_id": link["id"]}), 200)["data"]
    pending = ok(await recon.get("/clearing-accounts", params={"ledger_id": link["ledger_id"]}), 200)["data"]
    if unreconciled or pending:
        raise AssertionError(f"unreconciled {unreconciled}, pending clearing accounts {pending}")


async def run_batch_send(ledger: httpx.AsyncClient, recon: httpx.AsyncClient, report: Report) -> None:
    run_id = uuid.uuid4().hex[:8]
    link = await _link(ledger, recon, "bank_statement", f"batch-{run_id}")
    user = f"{USERS}:wanjiru"
    ok(
        await recon.post(
            "/expectations",
            json={
                "link_id": link["id"],
                "currency": "KES",
                "direction": "inbound",
                "amount_minor": 100_000,
                "reference": f"FUND-{run_id}",
                "account_path": user,
            },
        ),
        201,
    )
    await _statement(recon, link["id"], ("inbound", 100_000, f"FUND-{run_id}", f"{run_id}-in"))
    payments = [
        ok(
            await recon.post(
                "/expectations",
                json={
                    "link_id": link["id"],
                    "currency": "KES",
                    "direction": "outbound",
                    "amount_minor": amount,
                    "reference": f"PAY-{run_id}-{index}",
                    "account_path": user,
                },
            ),
            201,
        )
        for index, amount in enumerate((10_000, 20_000, 30_000, 40_000))
    ]
    before = payments[3]
    ok(
        await recon.post(f"/expectations/{before['id']}/cancellation", json={"reason": "cancelled before batching"}),
        200,
    )
    batch = ok(
        await recon.post(
            "/batches",
            json={
                "link_id": link["id"],
                "reference": f"BATCH-{run_id}",
                "expectation_ids": [p["id"] for p in payments[:3]],
            },
        ),
        201,
    )
    after = payments[2]
    ok(await recon.post(f"/expectations/{after['id']}/cancellation", json={"reason": "cancelled after batching"}), 200)
    total = ok(await recon.get(f"/batches/{batch['id']}"), 200)["total_minor"]
    if total != 30_000:
        raise AssertionError(f"the batch should settle 30000 after two cancellations, says {total}")
    report(f"batch {batch['id']}: one payment cancelled before batching, one after; it settles {total}")
    await _statement(recon, link["id"], ("outbound", 30_000, f"BATCH-{run_id}", f"{run_id}-batch"))
    if ok(await recon.get(f"/batches/{batch['id']}"), 200)["status"] != "settled":
        raise AssertionError("the batch's settlement was not matched")
    await _settled_books(ledger, recon, link)
    if await _balance(ledger, link["ledger_id"], user) != 70_000:
        raise AssertionError("the user's balance after the batch is wrong")
    # The bank reverses the whole batch after settlement (seed 003): opposite amounts, and the
    # payments' initiations reversed, so the user has everything back and every clearing account clears.
    await _statement(recon, link["id"], ("inbound", 30_000, f"BATCH-{run_id}", f"{run_id}-batch-back"))
    await _settled_books(ledger, recon, link)
    restored = await _balance(ledger, link["ledger_id"], user)
    cash = await _balance(ledger, link["ledger_id"], "assets/operating")
    if (restored, cash) != (100_000, 100_000):
        raise AssertionError(f"after the batch's reversal the user holds {restored} and cash {cash}, expected 100000")
    report("batch reversed by the bank after settlement: user and cash back to 100000, no clearing account pending")


async def run_card_settlement(ledger: httpx.AsyncClient, recon: httpx.AsyncClient, report: Report) -> None:
    run_id = uuid.uuid4().hex[:8]
    link = await _link(ledger, recon, "card_network", f"card-{run_id}")
    settlement_id = f"SET-{run_id}"
    clearings = {
        f"CLR-{run_id}-1": [("ct-1", "merchant_a", 12_000), ("ct-2", "merchant_b", 8_000)],
        f"CLR-{run_id}-2": [("ct-3", "merchant_a", 5_000)],
    }
    first, second = clearings
    ok(await recon.post(f"/links/{link['id']}/card-clearings", json=_clearing_file(first, clearings[first])), 201)
    ok(
        await recon.post(
            f"/links/{link['id']}/card-settlements",
            json={
                "settlement_id": settlement_id,
                "clearings": [
                    {"clearing_id": cid, "amount_minor": sum(a for _, _, a in txs)} for cid, txs in clearings.items()
                ],
            },
        ),
        201,
    )
    await _statement(recon, link["id"], ("inbound", 25_000, settlement_id, f"{run_id}-card"))
    ok(await recon.post(f"/links/{link['id']}/card-clearings", json=_clearing_file(second, clearings[second])), 201)
    view = ok(await recon.get(f"/links/{link['id']}/card-settlements/{settlement_id}"), 200)
    if [c["status"] for c in view["clearings"]] != ["posted", "posted"]:
        raise AssertionError(f"card clearings not split: {view['clearings']}")
    await _settled_books(ledger, recon, link)
    merchant_a = await _balance(ledger, link["ledger_id"], f"{USERS}:merchant_a")
    if merchant_a != 17_000:
        raise AssertionError(f"merchant_a should hold 17000 from two clearings, holds {merchant_a}")
    report(f"card settlement {settlement_id}: bank payment, 2 clearings, 3 card transactions split; nothing pending")


def _clearing_file(clearing_id: str, transactions: list[tuple[str, str, int]]) -> dict[str, Any]:
    return {
        "clearing_id": clearing_id,
        "transactions": [
            {"card_transaction_id": tid, "account_path": f"{USERS}:{user}", "amount_minor": amount}
            for tid, user, amount in transactions
        ],
    }
