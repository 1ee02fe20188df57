"""Reconciliation's daily report per link (and its CSV) and the ledger's pending clearing accounts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any

from clearway.console.adapters.services_api import Document, ServicesApi

LEDGERS_SCANNED_MAX = 20  # the overview asks each link's ledger once; more links than this is a bigger page


async def daily_report(api: ServicesApi, key: str, link_id: str, day: date | None) -> dict[str, Any]:
    params = {"day": day.isoformat() if day else None, "format": "json"}
    found: dict[str, Any] = await api.get("reconciliation", f"/links/{link_id}/reports/daily", key, params)
    return found


async def daily_report_csv(api: ServicesApi, key: str, link_id: str, day: date | None) -> Document:
    params = {"day": day.isoformat() if day else None, "format": "csv"}
    return await api.get_file("reconciliation", f"/links/{link_id}/reports/daily", key, params)


def ledgers_of(links: list[dict[str, Any]]) -> list[str]:
    """The ledgers reconciliation watches (one per link, often shared), first seen first."""
    return list(dict.fromkeys(link["ledger_id"] for link in links if link.get("ledger_id")))


async def pending_clearing_accounts(api: ServicesApi, key: str, ledger_id: str) -> list[dict[str, Any]]:
    answer = await api.get("reconciliation", "/clearing-accounts", key, {"ledger_id": ledger_id, "status": "pending"})
    # The longest pending first: that is the one to chase.
    found: list[dict[str, Any]] = sorted(answer["data"], key=lambda row: -(row.get("age_s") or 0))
    return found


@dataclass(frozen=True)
class DayTotals:
    currency: str
    in_minor: int
    out_minor: int
    links: int


async def todays_totals(api: ServicesApi, key: str, links: list[dict[str, Any]]) -> list[DayTotals]:
    """Money in and out today: the bank lines booked today on every link, summed by currency
    (each link's daily report; a link in another currency is its own row)."""
    reports = await asyncio.gather(*(daily_report(api, key, link["id"], None) for link in links))
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for report in reports:
        by_currency.setdefault(report["currency"], []).append(report)
    return [
        DayTotals(
            currency,
            sum(int(report["in_minor"]) for report in found),
            sum(int(report["out_minor"]) for report in found),
            len(found),
        )
        for currency, found in sorted(by_currency.items())
    ]
