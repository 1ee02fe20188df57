"""Payout's bank batches and their pain.001 file (rendered by payout, passed through)."""

from __future__ import annotations

from typing import Any

from clearway.console.adapters.services_api import Document, ServicesApi
from clearway.console.views.pages import ListSource

BATCHES = "/api/v1/admin/payments/payout-batches"


BATCHES_LIST = ListSource("payout", BATCHES, "/payouts/batches")


async def batch(api: ServicesApi, key: str, batch_id: str) -> dict[str, Any]:
    """One batch with its withdrawals (the list answers each batch's count and total, not its withdrawals)."""
    found: dict[str, Any] = await api.get("payout", f"{BATCHES}/{batch_id}", key)
    return found


async def pain001(api: ServicesApi, key: str, batch_id: str) -> Document:
    """The SEPA pain.001 file; payout closes the batch when it issues it (repeatable, same file)."""
    return await api.get_file("payout", f"{BATCHES}/{batch_id}/pain001", key)
