"""The services that hold money, over HTTP, as the orphan-hold check asks them: does the workflow a
hold belongs to still need it?

- payout holds a withdrawal's money under `payout:<withdrawal id>:hold`; an operator's or a
  service's key reads any withdrawal (`GET /api/v1/payments/withdrawals/{id}`). Payout answers 404
  `WITHDRAWAL_NOT_FOUND` for an unknown id, and also for one still `reserving`, which its recovery
  adopts or removes within its reservation grace (10 s), well inside the check's.
- authorization holds an approved authorization under `authorization:<cau id>:hold:<generation>`
  (`GET /authorizations/{id}`, 404 `AUTHORIZATION_NOT_FOUND`).

One attempt per question: a workflow its owner cannot answer for now is unverified, and the next
pass asks again. Only the owner's own 404 code means "missing", never a wrong URL's 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.holds import Liveness, OwnerAnswer

logger = get_logger("clearway.reconciliation.owner_clients")


@dataclass(frozen=True, slots=True)
class OwnerApi:
    name: str
    hold_prefix: str
    path: str  # with `{id}`
    not_found_code: str
    holding: frozenset[str]  # statuses in which its hold must still be open
    ended: frozenset[str]  # statuses after which it must be committed or voided
    record: Callable[[dict[str, Any]], Any]  # the workflow's record (`status`, `updated_at`) in the answer


PAYOUT = OwnerApi(
    name="payout",
    hold_prefix="payout:",
    path="/api/v1/payments/withdrawals/{id}",
    not_found_code="WITHDRAWAL_NOT_FOUND",
    holding=frozenset({"reserving", "pending_approval", "approved", "processing"}),
    ended=frozenset({"succeeded", "failed", "rejected", "reversed"}),
    record=lambda document: document.get("withdrawal"),
)
AUTHORIZATION = OwnerApi(
    name="authorization",
    hold_prefix="authorization:",
    path="/authorizations/{id}",
    not_found_code="AUTHORIZATION_NOT_FOUND",
    holding=frozenset({"pending", "approved", "reversing", "clearing", "expiring"}),
    ended=frozenset({"declined", "reversed", "cleared", "expired"}),
    record=lambda document: document,
)


def owner_answer(api: OwnerApi, document: Any) -> OwnerAnswer:
    """The owner's record as an answer; a status this check does not know is no verdict."""
    record = api.record(document) if isinstance(document, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("status"), str):
        return OwnerAnswer(Liveness.UNKNOWN, status="unreadable")
    status = str(record["status"])
    if status in api.holding:
        return OwnerAnswer(Liveness.LIVE, status=status)
    if status not in api.ended:
        return OwnerAnswer(Liveness.UNKNOWN, status=status)
    try:
        changed_at = datetime.fromisoformat(str(record["updated_at"]))
    except (KeyError, ValueError):
        return OwnerAnswer(Liveness.UNKNOWN, status=status)  # it may have ended a moment ago
    if changed_at.tzinfo is None:
        return OwnerAnswer(Liveness.UNKNOWN, status=status)
    return OwnerAnswer(Liveness.ENDED, status=status, changed_at=changed_at)


def withdrawal_answer(document: Any) -> OwnerAnswer:
    return owner_answer(PAYOUT, document)


def _owners_not_found(response: httpx.Response, code: str) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == code


class HttpOwnerClient:
    def __init__(
        self,
        api: OwnerApi,
        base_url: str,
        api_key: str | None,
        *,
        timeout_ms: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        assert timeout_ms > 0
        self.api = api
        headers = {"X-API-Key": api_key} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_ms / 1000, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def owner(self, owner_id: str) -> OwnerAnswer:
        """The `OwnerCheck` of this owner's holds."""
        if "/" in owner_id:
            return OwnerAnswer(Liveness.MISSING)  # the owners' ids never hold one, and they route on them
        try:
            response = await self._client.get(self.api.path.format(id=quote(owner_id, safe="")))
        except httpx.HTTPError as error:
            logger.warning("owner not answering", owner=self.api.name, owner_id=owner_id, error=repr(error))
            return OwnerAnswer(Liveness.UNKNOWN, status="unreachable")
        if response.status_code == 404 and _owners_not_found(response, self.api.not_found_code):
            return OwnerAnswer(Liveness.MISSING)
        if response.status_code != 200:
            logger.warning(
                "owner refused the question", owner=self.api.name, owner_id=owner_id, status=response.status_code
            )
            return OwnerAnswer(Liveness.UNKNOWN, status=f"http_{response.status_code}")
        try:
            document = response.json()
        except ValueError:
            return OwnerAnswer(Liveness.UNKNOWN, status="unreadable")
        return owner_answer(self.api, document)
