"""HTTP shapes of clearings and of the expiry job.

The request body is the public processor contract (`card.clearing.received`), so a processor sends
the same JSON over HTTP as over Kafka.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from clearway.authorization.domain.clearings import Clearing, ClearingRequest, ClearingStatus
from clearway.contracts.events.primitives import CurrencyCode
from clearway.platform.money import PositiveAmountMinor
from clearway.platform.pagination import PageParams


class ClearingCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")  # fields may be added to the processor contract

    clearing_id: str = Field(min_length=1, max_length=200, description="The processor's clearing id.")
    authorization_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The processor's authorization id; null: force post."
    )
    card_id: str = Field(min_length=1, max_length=200)
    amount_minor: PositiveAmountMinor
    # The processor contract's type, as over Kafka: three upper-case letters (a lower-case or
    # numeric code used to pass here and fail in the event builder with a 500).
    currency: CurrencyCode
    merchant_name: str = Field(max_length=200)
    merchant_category_code: str = Field(pattern=r"^[0-9]{4}$")
    cleared_at: datetime

    def request(self) -> ClearingRequest:
        return ClearingRequest(**self.model_dump())


class ClearingOut(BaseModel):
    id: str
    clearing_id: str
    authorization_id: str | None
    card_id: str
    amount_minor: int
    currency: str
    forced: bool = Field(description="No open hold was committed: the amount was posted as its own transaction.")
    status: ClearingStatus
    committed_minor: int = Field(description="Committed from the authorization's hold.")
    difference_minor: int = Field(
        description="Cleared minus what the hold held: positive posted as its own transaction, negative released."
    )
    fee_minor: int = Field(description="The markup fee standing after the clearing.")
    created_at: datetime

    @classmethod
    def from_domain(cls, item: Clearing) -> ClearingOut:
        return cls(
            id=item.id,
            clearing_id=item.clearing_id,
            authorization_id=item.authorization_id,
            card_id=item.card_id,
            amount_minor=item.amount_minor,
            currency=item.currency,
            forced=item.forced,
            status=item.status,
            committed_minor=item.committed_minor,
            difference_minor=item.difference_minor,
            fee_minor=item.fee_minor,
            created_at=item.created_at,
        )


class ClearingListParams(PageParams):
    card_id: str | None = Field(default=None, min_length=1, max_length=200)
    clearing_id: str | None = Field(default=None, min_length=1, max_length=200)


# A job's business date, bounded so the day arithmetic of every job (expiry's days back, a cycle's
# month) stays within Python's dates: 0001-01-01 was a 500 in the expiry job (found by `make fuzz`).
BUSINESS_DATE_MIN = date(2000, 1, 1)
BUSINESS_DATE_MAX = date(9000, 12, 31)


class JobRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_date: date = Field(ge=BUSINESS_DATE_MIN, le=BUSINESS_DATE_MAX)


class JobOut(BaseModel):
    job: str
    business_date: date
    expired: int
