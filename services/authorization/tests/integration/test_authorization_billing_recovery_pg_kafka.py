"""The recovery pass finishes what a crash left `pending` in billing, against real PostgreSQL, the real
broker and an in-process ledger: a repayment recorded but never posted, and a job run (a cycle close)
whose plan was recorded before the ledger was asked. Each is finished once: a second pass, or running
the job again for the date, changes nothing."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from clearway.authorization.config import AuthorizationSettings
from clearway.authorization.domain import billing as billing_domain
from clearway.authorization.service import billing, recovery, repayments
from clearway.authorization.service.context import AuthorizationContext
from clearway.authorization.service.ports import Ledger
from clearway.platform.ledger import LedgerUnavailableError

from .conftest import OPERATOR_KEY, PROCESSOR_KEY, RunningFlow
from .flows import balance, clearing_body, issue_card, open_account, outbox_events, request_body

pytestmark = pytest.mark.integration


class _PostingsRefused:
    """The real ledger for reads; every posting fails as an outage would (after our rows are committed)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __getattr__(self, name: str) -> Any:
        if name in ("post", "post_split", "post_with_overdraft_limit"):
            raise LedgerUnavailableError(f"the ledger is down ({name})")
        return getattr(self._ledger, name)


def _no_grace(context: AuthorizationContext) -> AuthorizationContext:
    return dataclasses.replace(context, policy=dataclasses.replace(context.policy, recovery_grace_ms=0))


async def test_recovery_finishes_a_pending_cycle_close_and_a_pending_repayment_once(
    running_flow: RunningFlow, ledger: httpx.AsyncClient, authorization_settings: AuthorizationSettings
) -> None:
    async with (
        running_flow() as service,
        service.client(PROCESSOR_KEY) as processor,
        service.client(OPERATOR_KEY) as operator,
    ):
        account = await open_account(operator, ledger)  # cycle day 1
        account_id, ids = account["id"], account["balances"]
        card = await issue_card(operator, account_id)
        approved = (await processor.post("/authorizations", json=request_body(card["id"], 100_000))).json()
        cleared = await processor.post(
            "/clearings", json=clearing_body(card["id"], 100_000, approved["authorization_id"])
        )
        assert cleared.status_code == 201, cleared.text
        context = service.context

        # The ledger takes no postings: the close's plan is committed `pending`, nothing moves.
        day = date(2026, 8, 1)
        down = dataclasses.replace(context, ledger=_PostingsRefused(context.ledger))
        failed = await billing.run_job(down, billing_domain.CLOSE_CYCLES, day)
        assert account_id not in [run.card_account_id for run in failed.accounts]
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == 0
        assert (await operator.get(f"/card-accounts/{account_id}/statements/1")).status_code == 404
        # Back: the pass finishes the close with its recorded plan (statement 1, billed).
        assert await recovery.recover_once(_no_grace(context)) >= 1
        statement = (await operator.get(f"/card-accounts/{account_id}/statements/1")).json()
        assert (statement["billed_minor"], statement["status"]) == (100_000, "open")
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -100_000

        # The same for a repayment: its allocation committed `pending`, then finished by the pass.
        reference = f"pay-{uuid.uuid4().hex[:8]}"
        with pytest.raises(LedgerUnavailableError):
            await repayments.repay(down, repayments.RepaymentRequest(account_id, 40_000, "USD", reference))
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -100_000
        assert await recovery.recover_once(_no_grace(context)) >= 1
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -60_000
        assert (await balance(ledger, ids["card_primary"]))["balance"] == -60_000  # the principal credited back

        # Once: another pass, the job again for the date, the same reference again change nothing.
        await recovery.recover_once(_no_grace(context))
        again = await billing.run_job(context, billing_domain.CLOSE_CYCLES, day)
        assert [run.card_account_id for run in again.accounts if run.card_account_id == account_id] == []
        repeated = await operator.post(
            f"/card-accounts/{account_id}/repayments",
            json={"amount_minor": 40_000, "currency": "USD", "reference": reference},
        )
        assert (repeated.status_code, repeated.json()["status"]) == (200, "posted")
        assert (await balance(ledger, ids["billed_balance"]))["balance"] == -60_000
        assert (await balance(ledger, ids["card_primary"]))["balance"] == -60_000
        events = await outbox_events(
            authorization_settings.database_url, "statement.closed", "card_account_id", account_id
        )
        assert [event["number"] for event in events] == [1]
        # The repayment finished by the pass published `card.repayment.applied` once, with its split.
        applied = await outbox_events(
            authorization_settings.database_url, "card.repayment.applied", "reference", reference
        )
        assert [(event["amount_minor"], event["split"]["billed_minor"]) for event in applied] == [(40_000, 40_000)]
