"""Payout over HTTP, as the orphan-hold check asks it: does the withdrawal a hold belongs to still
need it?

Payout holds a withdrawal's money under `payout:<withdrawal id>:hold`. An operator's or a
service's key reads any user's withdrawal (`GET /api/v1/payments/withdrawals/{id}`); payout answers
404 `WITHDRAWAL_NOT_FOUND` for an unknown id, and also for one still `reserving`, which its recovery
adopts or removes within its reservation grace (10 s), well inside the check's.

One attempt per question: a withdrawal payout cannot answer for now is unverified, and the next
pass asks again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.holds import Liveness, OwnerAnswer

logger = get_logger("clearway.reconciliation.payout_client")

WITHDRAWAL_HOLD_PREFIX = "payout:"
# Payout's withdrawal statuses: those in which its hold must still be open, and those after which
# it must be committed (succeeded, reversed after success) or voided (failed, rejected).
HOLDING_STATUSES = frozenset({"reserving", "pending_approval", "approved", "processing"})
ENDED_STATUSES = frozenset({"succeeded", "failed", "rejected", "reversed"})
NOT_FOUND_CODE = "WITHDRAWAL_NOT_FOUND"


def withdrawal_answer(document: Any) -> OwnerAnswer:
    """Payout's withdrawal (`WithdrawalWithIntentOut`) as an owner's answer; a status this check
    does not know is no verdict."""
    withdrawal = document.get("withdrawal") if isinstance(document, dict) else None
    if not isinstance(withdrawal, dict) or not isinstance(withdrawal.get("status"), str):
        return OwnerAnswer(Liveness.UNKNOWN, status="unreadable")
    status = str(withdrawal["status"])
    if status in HOLDING_STATUSES:
        return OwnerAnswer(Liveness.LIVE, status=status)
    if status not in ENDED_STATUSES:
        return OwnerAnswer(Liveness.UNKNOWN, status=status)
    try:
        changed_at = datetime.fromisoformat(str(withdrawal["updated_at"]))
    except (KeyError, ValueError):
        return OwnerAnswer(Liveness.UNKNOWN, status=status)  # it may have ended a moment ago
    if changed_at.tzinfo is None:
        return OwnerAnswer(Liveness.UNKNOWN, status=status)
    return OwnerAnswer(Liveness.ENDED, status=status, changed_at=changed_at)


def _not_found(response: httpx.Response) -> bool:
    """Payout's own 404 for the withdrawal, not a wrong URL's."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == NOT_FOUND_CODE


class HttpPayoutClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_ms: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        assert timeout_ms > 0
        headers = {"X-API-Key": api_key} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_ms / 1000, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def withdrawal_owner(self, withdrawal_id: str) -> OwnerAnswer:
        """The `OwnerCheck` of `payout:` holds."""
        if "/" in withdrawal_id:
            return OwnerAnswer(Liveness.MISSING)  # payout's ids (`wd_<ulid>`) never hold one, and it routes on them
        path = f"/api/v1/payments/withdrawals/{quote(withdrawal_id, safe='')}"
        try:
            response = await self._client.get(path)
        except httpx.HTTPError as error:
            logger.warning("payout not answering", withdrawal_id=withdrawal_id, error=repr(error))
            return OwnerAnswer(Liveness.UNKNOWN, status="unreachable")
        if response.status_code == 404 and _not_found(response):
            return OwnerAnswer(Liveness.MISSING)
        if response.status_code != 200:
            logger.warning("payout refused the question", withdrawal_id=withdrawal_id, status=response.status_code)
            return OwnerAnswer(Liveness.UNKNOWN, status=f"http_{response.status_code}")
        try:
            document = response.json()
        except ValueError:
            return OwnerAnswer(Liveness.UNKNOWN, status="unreadable")
        return withdrawal_answer(document)
