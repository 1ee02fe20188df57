"""The ledger's books as an operator reads them: ledgers, balances (with inflight and available),
a transaction with its legs and the transactions that reference it, search by reference.

The ledger answers Blnk-style lists (a JSON array with `limit`/`offset`), so these pages page by
offset: one more row than shown tells whether a next page exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from clearway.console.adapters.services_api import ServiceRefused, ServicesApi
from clearway.console.formatting import money
from clearway.platform.money import currency_exponent, is_known_currency

PAGE_SIZE = 25


@dataclass(frozen=True)
class OffsetPage:
    rows: list[dict[str, Any]]
    next_url: str | None
    first_url: str | None


def ledger_amount(precise_amount: int | str | None, currency: str, precision: int | str | None) -> str:
    """A Blnk-style precise amount: minor units when `precision` is the currency's 10**exponent,
    else `precise / precision` in the currency (a ledger may keep more digits than ISO 4217)."""
    if precise_amount is None:
        return "—"
    scale = int(precision or 1)
    if is_known_currency(currency) and scale == 10 ** currency_exponent(currency):
        return money(int(precise_amount), currency)
    return f"{currency} {Decimal(int(precise_amount)) / Decimal(scale):,}"


def _page(rows: list[dict[str, Any]], path: str, filters: dict[str, str | None], offset: int) -> OffsetPage:
    kept = {name: value for name, value in filters.items() if value}
    shown = rows[:PAGE_SIZE]
    next_url = f"{path}?{urlencode({**kept, 'offset': offset + PAGE_SIZE})}" if len(rows) > PAGE_SIZE else None
    first_url = f"{path}?{urlencode(kept)}" if offset else None
    return OffsetPage(shown, next_url, first_url)


async def ledgers_page(api: ServicesApi, key: str, offset: int) -> OffsetPage:
    rows = await api.get("ledger", "/ledgers", key, {"limit": PAGE_SIZE + 1, "offset": offset})
    return _page(list(rows), "/ledger/ledgers", {}, offset)


async def balances_page(
    api: ServicesApi, key: str, ledger_id: str | None, currency: str | None, offset: int
) -> OffsetPage:
    params = {"ledger_id": ledger_id, "currency": currency, "limit": PAGE_SIZE + 1, "offset": offset}
    rows = await api.get("ledger", "/balances", key, params)
    return _page(list(rows), "/ledger/balances", {"ledger_id": ledger_id, "currency": currency}, offset)


async def transaction(api: ServicesApi, key: str, transaction_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("ledger", f"/transactions/{transaction_id}", key)
    return found


async def referencing(api: ServicesApi, key: str, transaction_id: str) -> list[dict[str, Any]]:
    """Transactions whose parent is this one (a hold's commit or void, a refund)."""
    children: list[dict[str, Any]] = await api.get(
        "ledger", "/transactions", key, {"parent_transaction": transaction_id, "limit": 100}
    )
    return children


async def find_by_reference(api: ServicesApi, key: str, reference: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await api.get("ledger", f"/transactions/reference/{reference}", key)
    except ServiceRefused as refused:
        if refused.status == 404:
            return None
        raise
    return found


async def balance(api: ServicesApi, key: str, balance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("ledger", f"/balances/{balance_id}", key)
    return found
