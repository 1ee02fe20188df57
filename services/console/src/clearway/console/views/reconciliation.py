"""Reconciliation's unreconciled lines, suggested matches, manual (un)matching and breaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.views.pages import ListSource

BREAK_KINDS = (
    "unknown_account",
    "clearing_pending_too_long",
    "balance_mismatch",
    "unreconciled_too_long",
    "posting_failed",
    "deposit_not_posted",
    "payout_not_settled",
    "orphan_hold",
    "card_clearing_mismatch",
)
SUGGESTIONS_MAX = 100
UNRECONCILED = ListSource("reconciliation", "/unreconciled", "/reconciliation/unreconciled")
BREAKS = ListSource("reconciliation", "/breaks", "/reconciliation/breaks")


@dataclass(frozen=True)
class Suggestion:
    expectation: dict[str, Any]
    reasons: list[str]  # why it is offered first: "same amount", "same reference"

    @property
    def score(self) -> int:
        return len(self.reasons)


async def links(api: ServicesApi, key: str) -> list[dict[str, Any]]:
    answer = await api.get("reconciliation", "/links", key, {"limit": 100})
    found: list[dict[str, Any]] = answer["data"]
    return found


async def line(api: ServicesApi, key: str, transaction_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("reconciliation", f"/external-transactions/{transaction_id}", key)
    return found


def rank_suggestions(line: dict[str, Any], expectations: list[dict[str, Any]]) -> list[Suggestion]:
    """Open expectations that could explain `line`: same direction and currency, the closest first."""
    suggestions = []
    for expectation in expectations:
        if expectation["direction"] != line["direction"] or expectation["currency"] != line["currency"]:
            continue
        reasons = []
        if int(expectation["amount_minor"]) == int(line["amount_minor"]):
            reasons.append("same amount")
        if line.get("reference") and expectation.get("reference") == line["reference"]:
            reasons.append("same reference")
        suggestions.append(Suggestion(expectation, reasons))
    return sorted(suggestions, key=lambda suggestion: -suggestion.score)


async def suggestions_for(api: ServicesApi, key: str, found_line: dict[str, Any]) -> list[Suggestion]:
    if not found_line.get("link_id") or found_line["status"] != "unreconciled":
        return []
    answer = await api.get(
        "reconciliation",
        "/expectations",
        key,
        {"link_id": found_line["link_id"], "status": "open", "limit": SUGGESTIONS_MAX},
    )
    return rank_suggestions(found_line, answer["data"])


async def match(
    api: ServicesApi, key: str, transaction_id: str, expectation_ids: list[str], note: str
) -> dict[str, Any]:
    created: dict[str, Any] = await api.post(
        "reconciliation",
        "/matches",
        key,
        json={"external_transaction_ids": [transaction_id], "expectation_ids": expectation_ids, "reason": note},
    )
    return created


async def get_match(api: ServicesApi, key: str, match_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("reconciliation", f"/matches/{match_id}", key)
    return found


async def unmatch(api: ServicesApi, key: str, match_id: str, note: str) -> dict[str, Any]:
    undone: dict[str, Any] = await api.delete("reconciliation", f"/matches/{match_id}", key, {"reason": note})
    return undone


async def get_break(api: ServicesApi, key: str, break_id: str) -> dict[str, Any]:
    found: dict[str, Any] = await api.get("reconciliation", f"/breaks/{break_id}", key)
    return found


async def resolve_break(api: ServicesApi, key: str, break_id: str, note: str) -> dict[str, Any]:
    resolved: dict[str, Any] = await api.post(
        "reconciliation", f"/breaks/{break_id}/resolution", key, json={"note": note}
    )
    return resolved
