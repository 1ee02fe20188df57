"""Helpers the payout flow tests share: a funded wallet in the ledger, and reading it back."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

FUNDING_SOURCE = "@PayoutTestFunding-{currency}"


async def funded_user(ledger: httpx.AsyncClient, amount_minor: int, currency: str = "KES") -> str:
    """A new ledger identity whose wallet (`wallet:<id>`) holds `amount_minor`."""
    identity = await ledger.post(
        "/identities",
        json={"identity_type": "individual", "first_name": "Wanjiru", "last_name": uuid.uuid4().hex[:8]},
    )
    assert identity.status_code == 201, identity.text
    identity_id = identity.json()["identity_id"]
    if amount_minor:
        await credit(ledger, identity_id, amount_minor, currency)
    return str(identity_id)


async def wallet_balance_id(ledger: httpx.AsyncClient, identity_id: str, currency: str) -> str:
    response = await ledger.post(
        "/balances", json={"indicator": f"wallet:{identity_id}", "identity_id": identity_id, "currency": currency}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["balance_id"])


async def credit(ledger: httpx.AsyncClient, identity_id: str, amount_minor: int, currency: str = "KES") -> None:
    balance_id = await wallet_balance_id(ledger, identity_id, currency)
    response = await ledger.post(
        "/transactions",
        json={
            "precise_amount": amount_minor,
            "currency": currency,
            "reference": f"payout-test-credit-{uuid.uuid4().hex}",
            "source": FUNDING_SOURCE.format(currency=currency),
            "destination": balance_id,
            "allow_overdraft": True,
        },
    )
    assert response.status_code == 201 and response.json()["status"] == "APPLIED", response.text


async def wallet(ledger: httpx.AsyncClient, identity_id: str, currency: str = "KES") -> dict[str, Any]:
    response = await ledger.get(f"/balances/indicator/wallet:{identity_id}/currency/{currency}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def internal_balance(ledger: httpx.AsyncClient, indicator: str, currency: str) -> int:
    response = await ledger.get(f"/balances/indicator/{indicator}/currency/{currency}")
    if response.status_code == 404:
        return 0
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])


async def transactions_with_reference(ledger: httpx.AsyncClient, reference: str) -> int:
    response = await ledger.get(f"/transactions/reference/{reference}")
    return 1 if response.status_code == 200 else 0


async def mobile_method(client: httpx.AsyncClient, phone: str = "0712 345 678", **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/payments/withdrawal-methods", json={"type": "mobile_money", "phone_number": phone, **extra}
    )
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


async def withdraw(
    client: httpx.AsyncClient, method_id: str, amount_minor: int, *, key: str | None = None, currency: str = "KES"
) -> httpx.Response:
    return await client.post(
        "/api/v1/payments/withdrawals",
        json={"withdrawal_method_id": method_id, "amount_minor": amount_minor, "currency": currency},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )
