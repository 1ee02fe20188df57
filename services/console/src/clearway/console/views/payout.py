"""Payout's withdrawals and settlement approvals, read as the signed-in operator."""

from __future__ import annotations

from clearway.console.adapters.services_api import ServicesApi
from clearway.console.views.pages import ListSource

WITHDRAWALS = "/api/v1/payments/withdrawals"
ADMIN = "/api/v1/admin/payments"
WITHDRAWAL_STATUSES = (
    "pending_approval",
    "approved",
    "processing",
    "succeeded",
    "failed",
    "reversed",
    "rejected",
    "reserving",
)


WITHDRAWALS_LIST = ListSource("payout", WITHDRAWALS, "/payouts/withdrawals")
APPROVALS_LIST = ListSource("payout", f"{ADMIN}/approval-requests", "/payouts/approvals")


async def pending_requests_by_withdrawal(api: ServicesApi, key: str) -> dict[str, dict[str, object]]:
    """Pending settlement requests, by withdrawal id: a withdrawal with one needs a decision, not a request."""
    answer = await api.get("payout", f"{ADMIN}/approval-requests", key, {"status": "pending", "limit": 100})
    return {request["withdrawal_id"]: request for request in answer["data"]}


async def request_settlement(api: ServicesApi, key: str, withdrawal_id: str) -> dict[str, object]:
    result: dict[str, object] = await api.post(
        "payout", f"{ADMIN}/withdrawals/{withdrawal_id}/settlement-requests", key
    )
    return result


async def approve(api: ServicesApi, key: str, approval_id: str) -> dict[str, object]:
    result: dict[str, object] = await api.post("payout", f"{ADMIN}/approval-requests/{approval_id}/approvals", key)
    return result


async def reject(api: ServicesApi, key: str, approval_id: str, reason: str) -> dict[str, object]:
    result: dict[str, object] = await api.post(
        "payout", f"{ADMIN}/approval-requests/{approval_id}/rejections", key, json={"reason": reason}
    )
    return result
