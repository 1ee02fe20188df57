"""Withdrawal routes (seed 001): request one (Idempotency-Key required), list, read, and the wallet.

The platform's Idempotency-Key middleware replays a finished request's answer (same status and
body), refuses the key with another body (422 IDEMPOTENCY_KEY_REUSED) and answers 409 while the
first is still running; the withdrawal itself also stores its key, so a request that died before
its answer was stored is finished, not repeated, by its retry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from clearway.payout.domain.withdrawals import RequestWithdrawal
from clearway.payout.entrypoints.dependencies import (
    ContextDep,
    IdempotencyKey,
    Mover,
    Reader,
    acting_owner,
    visible_owner,
)
from clearway.payout.entrypoints.schemas_withdrawals import (
    WalletLineOut,
    WalletOut,
    WithdrawalCreate,
    WithdrawalListParams,
    WithdrawalOut,
    WithdrawalWithIntentOut,
)
from clearway.payout.service import withdrawals
from clearway.platform.errors import problem_responses
from clearway.platform.pagination import Page

router = APIRouter(prefix="/api/v1/payments", tags=["withdrawals"])


@router.post(
    "/withdrawals", status_code=status.HTTP_201_CREATED, responses=problem_responses(404)
)  # an unknown withdrawal_method_id
async def request_withdrawal(
    body: WithdrawalCreate, principal: Mover, key: IdempotencyKey, context: ContextDep, response: Response
) -> WithdrawalWithIntentOut:
    command = RequestWithdrawal(
        user_id=acting_owner(principal, body.identity_id),
        withdrawal_method_id=body.withdrawal_method_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        idempotency_key=key,
    )
    result = await withdrawals.request_withdrawal(context, command)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return WithdrawalWithIntentOut.from_result(result)


@router.get("/withdrawals")
async def list_withdrawals(
    principal: Reader, context: ContextDep, params: Annotated[WithdrawalListParams, Query()]
) -> Page[WithdrawalOut]:
    found = await withdrawals.list_withdrawals(
        context,
        visible_owner(principal, params.user_id),
        status=params.status,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([WithdrawalOut.from_domain(item) for item in found], params.limit)


@router.get("/withdrawals/{withdrawal_id}")
async def get_withdrawal(withdrawal_id: str, principal: Reader, context: ContextDep) -> WithdrawalWithIntentOut:
    result = await withdrawals.get_withdrawal(context, withdrawal_id, owner=visible_owner(principal))
    return WithdrawalWithIntentOut.from_result(result)


@router.get("/wallet")
async def get_wallet(
    principal: Reader,
    context: ContextDep,
    identity_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> WalletOut:
    """Per currency: the ledger balance, what pending withdrawals reserve of it, and what is spendable."""
    owner = acting_owner(principal, identity_id)
    lines = await withdrawals.wallet(context, owner)
    return WalletOut(data=[WalletLineOut.from_domain(line) for line in lines])
