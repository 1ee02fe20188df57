"""Funding's payables and fundings by status (the principal's workspace, as funding scopes them)."""

from __future__ import annotations

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.views.pages import PAGE_SIZE, ListPage

PAYABLE_STATUSES = ("created", "approved", "unapproved", "in_funding", "funded", "paying", "paid", "cancelled")
FUNDING_STATUSES = ("awaiting_funds", "linking", "funded", "paid_out", "cancelled", "expired")


async def payables_page(api: ServicesApi, key: str, status: str | None, cursor: str | None) -> ListPage:
    answer = await api.get(
        "funding", "/payables", key, {"status": status, "starting_after": cursor, "limit": PAGE_SIZE}
    )
    return ListPage.of(answer, "/funding/payables", {"status": status}, cursor)


async def fundings_page(api: ServicesApi, key: str, status: str | None, cursor: str | None) -> ListPage:
    answer = await api.get(
        "funding", "/fundings", key, {"status": status, "starting_after": cursor, "limit": PAGE_SIZE}
    )
    return ListPage.of(answer, "/funding/fundings", {"status": status}, cursor)
