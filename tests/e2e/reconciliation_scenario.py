"""Reconciliation (seed 003) as a finance team drives it from outside the platform: a ledger with a
link to the operating bank account, what the platform expects (a payment in, a bulk receipt for
three users, a payment out), the bank's statement imported, and the books checked: nothing left
unreconciled, no clearing account pending, the cash account equal to the bank's movements. Then the
settlement flows of `settlement_scenario.py` (batch send with cancellations and a reversal, card
network three-level settlement).

Shared by `test_reconciliation_flows.py` (a platform the test starts) and `demo.py` (`make run`).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from .settlement_scenario import USERS, Report, run_batch_send, run_card_settlement
from .settlement_scenario import ok as _ok


async def run_reconciliation(ledger: httpx.AsyncClient, recon: httpx.AsyncClient, report: Report) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:8]
    created = _ok(await ledger.post("/ledgers", json={"name": f"Books {run_id}", "ik": f"books-{run_id}"}), 200, 201)
    link = _ok(
        await recon.post(
            "/links",
            json={
                "name": "Operating account",
                "kind": "bank_statement",
                "ledger_id": created["ledger_id"],
                "cash_account_path": "assets/operating",
                "currency": "KES",
            },
        ),
        201,
    )
    report(f"ledger {created['ledger_id']} (ik books-{run_id}) linked to the operating account as {link['id']}")
    expectations = [
        {
            "direction": "inbound",
            "amount_minor": 50_000,
            "reference": f"INV-{run_id}",
            "account_path": f"{USERS}:amina",
        },
        {
            "direction": "inbound",
            "amount_minor": 60_000,
            "reference": f"BULK-{run_id}",
            "items": [
                {"account_path": f"{USERS}:baraka", "amount_minor": 10_000},
                {"account_path": f"{USERS}:chebet", "amount_minor": 20_000},
                {"account_path": f"{USERS}:daudi", "amount_minor": 30_000},
            ],
        },
    ]
    for body in expectations:
        _ok(await recon.post("/expectations", json={"link_id": link["id"], "currency": "KES", **body}), 201)
    statement = (
        "booked_on,direction,amount_minor,currency,reference,external_id,description\n"
        f"2026-11-29,inbound,50000,KES,INV-{run_id},{run_id}-1,Invoice paid\n"
        f"2026-11-29,inbound,60000,KES,BULK-{run_id},{run_id}-2,Bulk receipt\n"
    )
    imported = _ok(
        await recon.post(f"/links/{link['id']}/statements", params={"format": "csv"}, content=statement), 201
    )
    report(f"bank statement imported: {imported['imported']} lines")
    # Money out: initiated now (seed 003's initiation phase), settled when the bank's line arrives.
    _ok(
        await recon.post(
            "/expectations",
            json={
                "link_id": link["id"],
                "currency": "KES",
                "direction": "outbound",
                "amount_minor": 15_000,
                "reference": f"PAY-{run_id}",
                "account_path": f"{USERS}:amina",
            },
        ),
        201,
    )
    pending = _ok(await recon.get("/clearing-accounts", params={"ledger_id": created["ledger_id"]}), 200)["data"]
    report(f"payment out initiated: {[item['path'] for item in pending]} pending")
    out_line = (
        "booked_on,direction,amount_minor,currency,reference,external_id,description\n"
        f"2026-11-29,outbound,15000,KES,PAY-{run_id},{run_id}-3,Payment sent\n"
    )
    _ok(await recon.post(f"/links/{link['id']}/statements", params={"format": "csv"}, content=out_line), 201)
    unreconciled = _ok(await recon.get("/unreconciled", params={"link_id": link["id"]}), 200)["data"]
    still_pending = _ok(await recon.get("/clearing-accounts", params={"ledger_id": created["ledger_id"]}), 200)["data"]
    if unreconciled or still_pending:
        raise AssertionError(f"unreconciled {unreconciled}, pending clearing accounts {still_pending}")
    cash = _ok(await ledger.get(f"/ledgers/{created['ledger_id']}/accounts", params={"path": "assets/operating"}), 200)
    balance = int(cash["data"][0]["own_balance_minor"])
    if balance != 50_000 + 60_000 - 15_000:
        raise AssertionError(f"the cash account holds {balance}, the bank moved {50_000 + 60_000 - 15_000}")
    query = (
        'query PendingPayments { ledger(ledger: { ik: "' + f"books-{run_id}" + '" }) { ledgerAccounts(filter: '
        "{ clearingStatus: { equalTo: pending } }) { nodes { path clearingStatus ownBalance } } } }"
    )
    graphql = _ok(await recon.post("/graphql", json={"query": query}), 200)
    if graphql.get("errors") or graphql["data"]["ledger"]["ledgerAccounts"]["nodes"]:
        raise AssertionError(f"PendingPayments answered {graphql}")
    report(f"reconciled: nothing unreconciled, no clearing account pending, cash {balance} = the bank's movements")
    await run_batch_send(ledger, recon, report)
    await run_card_settlement(ledger, recon, report)
    return link
