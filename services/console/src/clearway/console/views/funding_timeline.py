"""A funding's timeline and the deposits an operator may link to it.

Funding keeps no event history per funding: `GET /funding/{id}` answers the moments it records
(created, invoice issued and sent, deposit linked, funded, paid out, cancelled), so the timeline is
built from those, in time order, with who did it where funding says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.formatting import parse_time

DEPOSITS_SHOWN = 50
# Only a funding still waiting for its money can take a deposit.
LINKABLE_STATUSES = frozenset({"awaiting_funds"})


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str
    by: str | None = None


def timeline(funding: dict[str, Any]) -> list[Moment]:
    invoice = funding.get("invoice") or {}
    deposit = funding.get("deposit") or {}
    candidates: list[tuple[Any, str, str | None]] = [
        (funding.get("created_at"), "Created", funding.get("created_by")),
        (invoice.get("issued_at"), f"Invoice {invoice.get('number', '')} issued".replace("  ", " "), None),
        (invoice.get("sent_at"), "Invoice sent", None),
        (deposit.get("linked_at"), f"Deposit {deposit.get('deposit_id', '')} linked", deposit.get("linked_by")),
        (funding.get("funded_at"), "Funded", None),
        (funding.get("paid_out_at"), "Paid out", None),
        (funding.get("cancelled_at"), "Cancelled", funding.get("cancelled_by")),
    ]
    moments = [Moment(moment, what, by) for value, what, by in candidates if (moment := parse_time(value)) is not None]
    return sorted(moments, key=lambda moment: moment.at)


async def funding(api: ServicesApi, key: str, funding_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("funding", f"/funding/{funding_id}", key)
    return found


async def deposits_to_link(api: ServicesApi, key: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    """Unlinked inbound deposits in the funding's currency, the one funding proposed first."""
    if found["status"] not in LINKABLE_STATUSES:
        return []
    answer = await api.get("funding", "/deposits", key, {"linked": "false", "limit": DEPOSITS_SHOWN})
    candidates = [
        deposit
        for deposit in answer["data"]
        if deposit["currency"] == found["currency"] and deposit.get("direction", "inbound") == "inbound"
    ]
    return sorted(candidates, key=lambda deposit: deposit.get("proposed_funding_id") != found["id"])


async def link_deposit(
    api: ServicesApi, key: str, funding_id: str, transfer_id: str, processor: str | None
) -> dict[str, Any]:
    linked: dict[str, Any] = await api.post(
        "funding", f"/funding/{funding_id}/link-deposit", key, json={"transfer_id": transfer_id, "processor": processor}
    )
    return linked
