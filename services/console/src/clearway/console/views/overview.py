"""The overview: is every service ready, and how much work is waiting (each count links to its list)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from clearway.console.adapters.services_api import Health, ServiceRefused, ServicesApi
from clearway.console.formatting import count_label

COUNT_PAGE = 100  # the services' page maximum: a count past it reads "100+"


@dataclass(frozen=True)
class Count:
    label: str
    value: str  # "3", "100+" or "—" when the service refused or is down
    href: str
    note: str | None = None


@dataclass(frozen=True)
class Overview:
    health: list[Health]
    counts: list[Count]


async def _count(
    api: ServicesApi, key: str, label: str, href: str, service: str, path: str, params: dict[str, Any]
) -> Count:
    try:
        answer = await api.get(service, path, key, {**params, "limit": COUNT_PAGE})
    except ServiceRefused as refused:
        return Count(label, "—", href, note="not allowed for your roles" if refused.is_forbidden else refused.detail)
    return Count(label, count_label(len(answer["data"]), bool(answer["has_more"])), href)


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
    found_health, found_counts = await asyncio.gather(health, counts)
    return Overview(health=list(found_health), counts=list(found_counts))
