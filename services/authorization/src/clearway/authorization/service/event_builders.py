"""Authorization's events, built from its domain objects (the only place it names a published model)."""

from __future__ import annotations

from clearway.authorization.domain.authorizations import Authorization
from clearway.contracts.events import CardAuthorizationDecided


def decided(authorization: Authorization) -> CardAuthorizationDecided:
    assert authorization.decision is not None and authorization.decided_at is not None, authorization.id
    return CardAuthorizationDecided(
        id=authorization.id,
        authorization_id=authorization.authorization_id,
        card_id=authorization.card_id,
        card_account_id=authorization.card_account_id,
        decision=authorization.decision.value,
        reason=authorization.reason.value if authorization.reason is not None else None,
        amount_minor=authorization.amount_minor,
        currency=authorization.currency,
        available_credit_minor=authorization.available_credit_minor,
        hold_transaction_id=authorization.hold_transaction_id,
        fee_minor=authorization.fee_minor,
        decided_at=authorization.decided_at,
    )
