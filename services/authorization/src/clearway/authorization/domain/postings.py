"""What authorization asks the ledger for, with references derived from our ids: asking again
(a retry, the recovery pass) is a replay, never a second hold, fee or void."""

from __future__ import annotations

from dataclasses import replace

from clearway.authorization.domain.authorizations import Authorization
from clearway.authorization.domain.card_accounts import CARD_PRIMARY, FEES_PAYABLE, CardAccount
from clearway.authorization.domain.clearings import Clearing
from clearway.platform.ledger import Posting


def world(currency: str) -> str:
    """Where card spend goes (seed 002: `@World-USD`)."""
    return f"@World-{currency}"


def fee_income(currency: str) -> str:
    """The program's fee income (seed 6a's `@EnfuceFees`), one internal balance per currency."""
    return f"@CardFees-{currency}"


def hold_reference(authorization: Authorization, generation: int | None = None) -> str:
    """`authorization:<id>:hold:<generation>`: the decision asks for generation 0 (a raise asks under
    `raise_reference`; a partial reversal voids part of the hold and places nothing)."""
    return (
        f"authorization:{authorization.id}:hold:{authorization.hold_generation if generation is None else generation}"
    )


def raise_reference(original: Authorization, increment: Authorization) -> str:
    """The larger hold an incremental authorization asks for, owned by the original (the orphan-hold
    check asks the original's owner). By the increment's id, not the next generation: a refused
    increment must not spend the reference the next one (or a partial reversal) asks with."""
    return f"authorization:{original.id}:raise:{increment.id}"


def raise_posting(original: Authorization, increment: Authorization, account: CardAccount) -> Posting:
    """The original's hold plus the increment, as one inflight hold (the old one is voided after)."""
    posting = hold_posting(original, account, original.held_minor + increment.amount_minor, original.hold_generation)
    return replace(
        posting,
        reference=raise_reference(original, increment),
        description="Card transaction (incremental authorization)",
        meta_data={**posting.meta_data, "incremental_authorization_id": increment.authorization_id},
    )


def void_reference(authorization: Authorization) -> str:
    return f"authorization:{authorization.id}:void:{authorization.hold_generation}"


def fee_reference(authorization: Authorization) -> str:
    return fee_reference_of(authorization.id)


def fee_reference_of(authorization_ref: str) -> str:
    """The markup fee posted at authorization, by our authorization id (`cau_...`)."""
    return f"authorization:{authorization_ref}:fee"


def hold_posting(authorization: Authorization, account: CardAccount, amount_minor: int, generation: int) -> Posting:
    """Seed steps 2-6: card primary -> @World-<CUR>, inflight, overdrawing down to the credit limit."""
    return Posting(
        amount_minor=amount_minor,
        currency=authorization.currency,
        reference=hold_reference(authorization, generation),
        source=account.balance_id(CARD_PRIMARY),
        destination=world(authorization.currency),
        allow_overdraft=True,
        inflight=True,
        description="Card transaction",
        meta_data={
            "authorization_id": authorization.authorization_id,
            "card_id": authorization.card_id,
            "merchant_name": authorization.merchant_name,
            "merchant_category_code": authorization.merchant_category_code,
        },
    )


def fee_posting(authorization: Authorization, account: CardAccount, fee_minor: int) -> Posting:
    """Seed 6a: the markup fee, fees payable -> the program's fee income, referenced to the card transaction."""
    return Posting(
        amount_minor=fee_minor,
        currency=authorization.currency,
        reference=fee_reference(authorization),
        source=account.balance_id(FEES_PAYABLE),
        destination=fee_income(authorization.currency),
        allow_overdraft=True,
        description=f"{account.terms.fee_markup_bps} bps markup of card transaction",
        meta_data={
            "authorization_id": authorization.authorization_id,
            "hold_reference": hold_reference(authorization, 0),
        },
    )


def expire_reference(authorization: Authorization) -> str:
    """The expiry job's void of the stale hold (the generation it voids)."""
    return f"authorization:{authorization.id}:expire:{authorization.hold_generation}"


def fee_refund_reference(authorization_ref: str) -> str:
    """The ledger names a refund after what it refunds: `<reference>:refund`."""
    return f"{fee_reference_of(authorization_ref)}:refund"


def clearing_reference(clearing: Clearing, step: str) -> str:
    """`commit` (the hold), `release` (the rest of a lower clearing), `post` (a higher clearing's
    difference or a force post's amount), `fee` (the recalculated or force post's fee)."""
    assert step in ("commit", "release", "post", "fee"), step
    return f"clearing:{clearing.id}:{step}"


def clearing_posting(clearing: Clearing, account: CardAccount, amount_minor: int) -> Posting:
    """What a clearing posts outside a hold: card primary -> @World-<CUR>, overdrawing to the credit limit."""
    return Posting(
        amount_minor=amount_minor,
        currency=clearing.currency,
        reference=clearing_reference(clearing, "post"),
        source=account.balance_id(CARD_PRIMARY),
        destination=world(clearing.currency),
        allow_overdraft=True,
        description="Card transaction (force post)" if clearing.forced else "Card transaction (cleared above hold)",
        meta_data={
            "clearing_id": clearing.clearing_id,
            "authorization_id": clearing.authorization_id or "",
            "card_id": clearing.card_id,
            "merchant_name": clearing.merchant_name,
            "merchant_category_code": clearing.merchant_category_code,
        },
    )


def clearing_fee_posting(clearing: Clearing, account: CardAccount, fee_minor: int) -> Posting:
    """Seed 8: the recalculated (or force post's) markup fee, fees payable -> the program's fee income."""
    return Posting(
        amount_minor=fee_minor,
        currency=clearing.currency,
        reference=clearing_reference(clearing, "fee"),
        source=account.balance_id(FEES_PAYABLE),
        destination=fee_income(clearing.currency),
        allow_overdraft=True,
        description=f"{account.terms.fee_markup_bps} bps markup of cleared card transaction",
        meta_data={"clearing_id": clearing.clearing_id, "authorization_id": clearing.authorization_id or ""},
    )
