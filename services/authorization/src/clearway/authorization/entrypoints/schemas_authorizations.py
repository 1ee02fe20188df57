"""HTTP shapes of authorization decisions and reversals.

The request body is the public processor contract (`card.authorization.requested`), so a processor
sends the same JSON over HTTP as over Kafka.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clearway.authorization.domain.authorizations import (
    Authorization,
    AuthorizationRequest,
    AuthorizationStatus,
    Channel,
    Decision,
    Reason,
)
from clearway.contracts.events.primitives import AmountMinor, CurrencyCode
from clearway.platform.money import PositiveAmountMinor
from clearway.platform.pagination import PageParams


class AuthorizationCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")  # fields may be added to the processor contract

    authorization_id: str = Field(min_length=1, max_length=200, description="The processor's authorization id.")
    card_id: str = Field(min_length=1, max_length=200)
    # The processor contract's type (0 to the one money maximum): an unbounded integer used to reach
    # PostgreSQL's bigint and fail there with a 500.
    amount_minor: AmountMinor
    # The processor contract's type, as over Kafka: three upper-case letters (a lower-case or
    # numeric code used to pass here and fail in the event builder with a 500).
    currency: CurrencyCode
    merchant_name: str = Field(max_length=200)
    merchant_category_code: str = Field(pattern=r"^[0-9]{4}$")
    channel: Channel
    requested_at: datetime
    incremental_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="An incremental authorization: the processor's id of the approved authorization whose hold "
        "this one raises by `amount_minor` (this request keeps its own `authorization_id`).",
    )

    def request(self) -> AuthorizationRequest:
        return AuthorizationRequest(**self.model_dump())


class AuthorizationOut(BaseModel):
    id: str
    authorization_id: str
    card_id: str
    card_account_id: str | None
    decision: Decision | None = Field(description="Null only while the decision is being finished (pending).")
    reason: Reason | None
    amount_minor: int
    currency: str
    available_credit_minor: int | None
    status: AuthorizationStatus
    held_minor: int
    fee_minor: int
    hold_transaction_id: str | None
    merchant_name: str
    merchant_category_code: str
    channel: Channel
    requested_at: datetime
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    incremental_of: str | None = Field(
        default=None, description="Our id (`cau_...`) of the authorization this incremental one raised."
    )
    reversed_minor: int = Field(
        default=0, description="On an incremental one: what reversals naming it released from the original's hold."
    )

    @classmethod
    def from_domain(cls, item: Authorization) -> AuthorizationOut:
        return cls(
            id=item.id,
            authorization_id=item.authorization_id,
            card_id=item.card_id,
            card_account_id=item.card_account_id,
            decision=item.decision,
            reason=item.reason,
            amount_minor=item.amount_minor,
            currency=item.currency,
            available_credit_minor=item.available_credit_minor,
            status=item.status,
            held_minor=item.held_minor,
            fee_minor=item.fee_minor,
            hold_transaction_id=item.hold_transaction_id,
            merchant_name=item.merchant_name,
            merchant_category_code=item.merchant_category_code,
            channel=item.channel,
            requested_at=item.requested_at,
            decided_at=item.decided_at,
            created_at=item.created_at,
            updated_at=item.updated_at,
            incremental_of=item.incremental_of,
            reversed_minor=item.reversed_minor,
        )


class ReversalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: PositiveAmountMinor | None = Field(default=None, description="The part reversed; all when absent.")


class AuthorizationListParams(PageParams):
    authorization_id: str | None = Field(default=None, min_length=1, max_length=200)
    card_id: str | None = Field(default=None, min_length=1, max_length=200)
