"""The overview: is every service ready, how much work is waiting (each count links to its list),
the money in and out today, and the services' dead letters (exact: each service records them),
consumer lag and outbox lag."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from clearway.console.adapters.services_api import Health, ServiceRefused, ServicesApi
from clearway.console.formatting import count_label
from clearway.console.views import dead_letters, recon_reports
from clearway.console.views.service_metrics import EventTraffic, event_traffic

COUNT_PAGE = 100  # the services' page maximum: a count past it reads "100+"


@dataclass(frozen=True)
class Count:
    label: str
    value: str  # "3", "100+" or "—" when the service refused or is down
    href: str
    note: str | None = None


@dataclass(frozen=True)
class Money:
    totals: list[recon_reports.DayTotals]
    note: str | None = None  # why there are none: refused, unreachable


@dataclass(frozen=True)
class Overview:
    health: list[Health]
    counts: list[Count]
    money: Money
    traffic: list[EventTraffic]
    dead_letters: list[dead_letters.ServiceDeadLetters]

    @property
    def dead_lettered(self) -> int | None:
        return dead_letters.total(self.dead_letters)


async def _count(
    api: ServicesApi, key: str, label: str, href: str, service: str, path: str, params: dict[str, Any]
) -> Count:
    try:
        answer = await api.get(service, path, key, {**params, "limit": COUNT_PAGE})
    except ServiceRefused as refused:
        return Count(label, "—", href, note=_refusal_note(refused))
    return Count(label, count_label(len(answer["data"]), bool(answer["has_more"])), href)


async def _links(api: ServicesApi, key: str) -> list[dict[str, Any]] | ServiceRefused:
    try:
        answer = await api.get("reconciliation", "/links", key, {"limit": COUNT_PAGE})
    except ServiceRefused as refused:
        return refused
    found: list[dict[str, Any]] = answer["data"]
    return found


def _refusal_note(refused: ServiceRefused) -> str:
    return "not allowed for your roles" if refused.is_forbidden else refused.detail


async def _pending_clearing(api: ServicesApi, key: str, links: list[dict[str, Any]] | ServiceRefused) -> Count:
    label, href = "Pending clearing accounts", "/reconciliation/clearing-accounts"
    if isinstance(links, ServiceRefused):
        return Count(label, "—", href, note=_refusal_note(links))
    ledgers = recon_reports.ledgers_of(links)[: recon_reports.LEDGERS_SCANNED_MAX]
    try:
        found = await asyncio.gather(*(recon_reports.pending_clearing_accounts(api, key, item) for item in ledgers))
    except ServiceRefused as refused:
        return Count(label, "—", href, note=_refusal_note(refused))
    scanned = f"in {len(ledgers)} ledger{'s' if len(ledgers) != 1 else ''} reconciliation watches"
    return Count(label, str(sum(len(accounts) for accounts in found)), href, note=scanned)


async def _money_today(api: ServicesApi, key: str, links: list[dict[str, Any]] | ServiceRefused) -> Money:
    if isinstance(links, ServiceRefused):
        return Money([], note=_refusal_note(links))
    try:
        return Money(await recon_reports.todays_totals(api, key, links))
    except ServiceRefused as refused:
        return Money([], note=_refusal_note(refused))


def _dead_letters_count(found: list[dead_letters.ServiceDeadLetters]) -> Count:
    label, href = "Dead letters", dead_letters.PATH
    known = dead_letters.total(found)
    refused = [item for item in found if item.total is None]
    if known is None:
        return Count(label, "—", href, note=refused[0].note if refused else None)
    note = f"{len(refused)} service{'s' if len(refused) != 1 else ''} did not answer" if refused else None
    return Count(label, str(known), href, note=note)


async def load_overview(api: ServicesApi, key: str) -> Overview:
    health = asyncio.gather(*(api.health(service) for service in api.services))
    withdrawals = "/api/v1/payments/withdrawals"
    counts = asyncio.gather(
        _count(
            api,
            key,
            "Withdrawals awaiting approval",
            "/payouts/withdrawals?status=pending_approval",
            "payout",
            withdrawals,
            {"status": "pending_approval"},
        ),
        _count(
            api,
            key,
            "Settlement requests awaiting a decision",
            "/payouts/approvals",
            "payout",
            "/api/v1/admin/payments/approval-requests",
            {"status": "pending"},
        ),
        _count(
            api,
            key,
            "Failed payouts",
            "/payouts/withdrawals?status=failed",
            "payout",
            withdrawals,
            {"status": "failed"},
        ),
        _count(api, key, "Open breaks", "/reconciliation/breaks", "reconciliation", "/breaks", {"open": "true"}),
        _count(api, key, "Unreconciled lines", "/reconciliation/unreconciled", "reconciliation", "/unreconciled", {}),
    )
    links = await _links(api, key)
    found_health, found_counts, clearing, money, traffic, dead = await asyncio.gather(
        health,
        counts,
        _pending_clearing(api, key, links),
        _money_today(api, key, links),
        event_traffic(api),
        dead_letters.counts(api, key),
    )
    return Overview(
        health=list(found_health),
        counts=[*found_counts, clearing, _dead_letters_count(dead)],
        money=money,
        traffic=list(traffic),
        dead_letters=dead,
    )
