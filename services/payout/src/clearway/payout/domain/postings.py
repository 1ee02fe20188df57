"""The ledger movements a withdrawal makes, each under a reference derived from its id.

    reserve:  hold   wallet:<user>              -> @PayoutClearing-<CUR>    (the wallet never overdraws)
    success:  commit the hold, then @PayoutClearing-<CUR> -> @Payouts-<provider>-<CUR>
    failure, rejection: void the hold
    reversal after success: @Payouts-<provider>-<CUR> -> wallet:<user>

A retry, a duplicate callback or a restart re-sends the same reference, which the ledger answers
as a replay, so each outcome moves money once however often it is applied.
"""

from __future__ import annotations

from clearway.payout.domain.withdrawals import Withdrawal
from clearway.platform.ledger import Posting

CLEARING_PREFIX = "@PayoutClearing-"
SETTLEMENT_PREFIX = "@Payouts-"


def clearing_balance(currency: str) -> str:
    return f"{CLEARING_PREFIX}{currency}"


def settlement_balance(provider: str, currency: str) -> str:
    """Where paid-out money goes: the provider's side, settled with it (and reconciled) later."""
    return f"{SETTLEMENT_PREFIX}{provider}-{currency}"


def hold_reference(withdrawal_id: str) -> str:
    return f"payout:{withdrawal_id}:hold"


def commit_reference(withdrawal_id: str) -> str:
    return f"payout:{withdrawal_id}:commit"


def void_reference(withdrawal_id: str) -> str:
    return f"payout:{withdrawal_id}:void"


def _meta(withdrawal: Withdrawal) -> dict[str, str]:
    meta = {"withdrawal_id": withdrawal.id, "user_id": withdrawal.user_id}
    if withdrawal.payable_id is not None:
        meta["payable_id"] = withdrawal.payable_id
    return meta


def hold_posting(withdrawal: Withdrawal, wallet_balance_id: str) -> Posting:
    return Posting(
        reference=hold_reference(withdrawal.id),
        source=wallet_balance_id,
        destination=clearing_balance(withdrawal.currency),
        amount_minor=withdrawal.amount_minor,
        currency=withdrawal.currency,
        allow_overdraft=False,
        description="Withdrawal reservation",
        meta_data=_meta(withdrawal),
        inflight=True,
    )


def settlement_posting(withdrawal: Withdrawal) -> Posting:
    return Posting(
        reference=f"payout:{withdrawal.id}:settle",
        source=clearing_balance(withdrawal.currency),
        destination=settlement_balance(withdrawal.provider, withdrawal.currency),
        amount_minor=withdrawal.amount_minor,
        currency=withdrawal.currency,
        allow_overdraft=False,
        description="Withdrawal paid out",
        meta_data={**_meta(withdrawal), "receipt": withdrawal.receipt or ""},
    )


def reversal_posting(withdrawal: Withdrawal, wallet_balance_id: str) -> Posting:
    return Posting(
        reference=f"payout:{withdrawal.id}:reversal",
        source=settlement_balance(withdrawal.provider, withdrawal.currency),
        destination=wallet_balance_id,
        amount_minor=withdrawal.amount_minor,
        currency=withdrawal.currency,
        # The provider's side went negative when it paid out; giving the money back may take it further.
        allow_overdraft=True,
        description="Withdrawal reversed by the provider",
        meta_data=_meta(withdrawal),
    )
