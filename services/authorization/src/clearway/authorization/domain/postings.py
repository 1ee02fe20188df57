"""What authorization asks the ledger for, with references derived from our ids: asking again
(a retry, the recovery pass) is a replay, never a second hold, fee or void."""

from __future__ import annotations

from clearway.authorization.domain.authorizations import Authorization
from clearway.authorization.domain.card_accounts import CARD_PRIMARY, FEES_PAYABLE, CardAccount
from clearway.platform.ledger import Posting


def world(currency: str) -> str:
    """Where card spend goes (seed 002: `@World-USD`)."""
    return f"@World-{currency}"


def fee_income(currency: str) -> str:
    """The program's fee income (seed 6a's `@EnfuceFees`), one internal balance per currency."""
    return f"@CardFees-{currency}"


def hold_reference(authorization: Authorization, generation: int | None = None) -> str:
    """Generation 0 is the authorization's hold; a partial reversal re-places the rest as the next."""
    return (
        f"authorization:{authorization.id}:hold:{authorization.hold_generation if generation is None else generation}"
    )


def void_reference(authorization: Authorization) -> str:
    return f"authorization:{authorization.id}:void:{authorization.hold_generation}"


def fee_reference(authorization: Authorization) -> str:
    return f"authorization:{authorization.id}:fee"


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
