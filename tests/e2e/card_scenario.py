"""A charge card through the authorization service (seed 002, steps 1-8), as an issuer's back office
and a card processor drive it from outside: open a card account (its six ledger balances), issue a
card, authorize (one approved, one declined over the limit), clear the approval at a changed amount
(the hold committed in part and the rest released, the markup fee refunded and re-posted), and read
the figures. Only the authorization service's HTTP API is driven; the ledger is read, and written
only to register the cardholder (a ledger identity, which a card account names).

Used by `demo.py` (`make demo`, step 9).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

Report = Callable[[str], None]
USD = "USD"


def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in statuses, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _money(minor: int) -> str:
    return f"{'-' if minor < 0 else ''}${abs(minor) / 100:,.2f}"


async def run_card(service: httpx.AsyncClient, ledger: httpx.AsyncClient, report: Report) -> dict[str, Any]:
    """-> the clearing; asserts the seed's figures on the way."""
    run_id = uuid.uuid4().hex[:8]
    identity = _ok(await ledger.post("/identities", json={"first_name": "Xavier", "last_name": "Woods"}), 201)
    account = _ok(
        await service.post(
            "/card-accounts",
            json={
                "identity_id": identity["identity_id"],
                "currency": USD,
                "credit_limit_minor": 500_000,
                "billing_cycle_day": 1,
                "payment_due_days": 21,
                "fee_markup_bps": 150,
            },
            headers={"Idempotency-Key": f"demo-card-{run_id}"},
        ),
        201,
    )
    balances = account["balances"]
    report(f"card account {account['id']}: credit limit {_money(account['credit_limit_minor'])}, six ledger balances")
    card = _ok(
        await service.post(f"/card-accounts/{account['id']}/cards", json={"last_four": "4242", "expires": "09/39"}),
        201,
    )

    def request(amount_minor: int, channel: str) -> dict[str, Any]:
        return {
            "authorization_id": f"demo-auth-{uuid.uuid4().hex[:12]}",
            "card_id": card["id"],
            "amount_minor": amount_minor,
            "currency": USD,
            "merchant_name": "ATM Main St" if channel == "atm" else "Corner Coffee",
            "merchant_category_code": "6011" if channel == "atm" else "5814",
            "channel": channel,
            "requested_at": datetime.now(UTC).isoformat(),
        }

    pos = _ok(await service.post("/authorizations", json=request(200_000, "pos")), 201)
    assert (pos["decision"], pos["fee_minor"]) == ("approved", 3_000), pos
    report(
        f"POS {_money(pos['amount_minor'])} approved: held on card primary, fee {_money(pos['fee_minor'])}, "
        f"available {_money(pos['available_credit_minor'])}"
    )
    over = _ok(await service.post("/authorizations", json=request(300_001, "atm")), 201)
    assert (over["decision"], over["reason"]) == ("declined", "insufficient_funds"), over
    report(f"ATM {_money(over['amount_minor'])} declined {over['reason']}: no hold, no fee")

    clearing = _ok(
        await service.post(
            "/clearings",
            json={
                "clearing_id": f"demo-clr-{run_id}",
                "authorization_id": pos["authorization_id"],
                "card_id": card["id"],
                "amount_minor": 180_000,
                "currency": USD,
                "merchant_name": "Corner Coffee",
                "merchant_category_code": "5814",
                "cleared_at": datetime.now(UTC).isoformat(),
            },
        ),
        201,
    )
    assert (clearing["committed_minor"], clearing["difference_minor"], clearing["fee_minor"]) == (
        180_000,
        -20_000,
        2_700,
    ), clearing
    report(
        f"cleared at {_money(clearing['amount_minor'])}: {_money(clearing['committed_minor'])} committed, "
        f"{_money(-clearing['difference_minor'])} released; fee {_money(pos['fee_minor'])} refunded, "
        f"{_money(clearing['fee_minor'])} posted"
    )
    primary = _ok(await ledger.get(f"/balances/{balances['card_primary']}"), 200)
    fees = _ok(await ledger.get(f"/balances/{balances['fees_payable']}"), 200)
    assert (primary["balance"], primary["inflight_debit_balance"], fees["balance"]) == (-180_000, 0, -2_700)
    figures = _ok(await service.get(f"/card-accounts/{account['id']}"), 200)
    report(
        f"ledger: card primary {_money(primary['balance'])} (inflight {_money(primary['inflight_debit_balance'])}), "
        f"fees payable {_money(fees['balance'])}; available credit {_money(figures['available_credit_minor'])}"
    )
    return dict(clearing)
