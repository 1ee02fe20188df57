"""HTTP shapes of expectations, matching runs and matches."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from clearway.platform.money import AMOUNT_MINOR_MAX
from clearway.platform.pagination import PageParams
from clearway.reconciliation.domain.expectations import Expectation, ExpectationStatus
from clearway.reconciliation.domain.external_transactions import Direction
from clearway.reconciliation.domain.matches import Match

CURRENCY = r"^[A-Z]{3}$"


class ExpectationItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_path: str = Field(min_length=1, max_length=300, description="e.g. liabilities/user_balances:usr_1")
    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)


class ExpectationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link_id: str = Field(min_length=1, max_length=100)
    direction: Direction
    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)
    currency: str = Field(pattern=CURRENCY)
    reference: str | None = Field(default=None, min_length=1, max_length=200)
    expected_on: date | None = None
    account_path: str | None = Field(
        default=None, max_length=300, description="Whose balance it moves: liabilities/user_balances:<user>."
    )
    items: list[ExpectationItemIn] | None = Field(default=None, max_length=1_000, description="Split a bulk payment.")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Your id for it: creating it again returns it."
    )


class ExpectationOut(BaseModel):
    id: str
    link_id: str
    direction: Direction
    amount_minor: int
    currency: str
    reference: str | None
    expected_on: date | None
    account_path: str | None
    items: list[ExpectationItemIn]
    source: str
    source_id: str | None
    status: ExpectationStatus
    match_id: str | None
    initiation_status: str
    batch_id: str | None = None
    created_at: datetime

    @classmethod
    def from_domain(cls, expectation: Expectation) -> ExpectationOut:
        return cls(
            id=expectation.id,
            link_id=expectation.link_id,
            direction=expectation.direction,
            amount_minor=expectation.amount_minor,
            currency=expectation.currency,
            reference=expectation.reference,
            expected_on=expectation.expected_on,
            account_path=expectation.account_path,
            items=[
                ExpectationItemIn(account_path=i.account_path, amount_minor=i.amount_minor) for i in expectation.items
            ],
            source=expectation.source,
            source_id=expectation.source_id,
            status=expectation.status,
            match_id=expectation.match_id,
            initiation_status=expectation.initiation_status.value,
            batch_id=expectation.batch_id,
            created_at=expectation.created_at,
        )


class ExpectationListParams(PageParams):
    link_id: str | None = Field(default=None, max_length=100)
    status: ExpectationStatus | None = None


class CancellationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class MatchingRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link_id: str = Field(min_length=1, max_length=100)
    dry_run: bool = False


class RunMatchOut(BaseModel):
    external_transaction_id: str
    expectation_id: str
    expectation_ids: list[str]
    match_id: str
    strategy: str
    rule: str
    entry_types: list[str]


class MatchingRunOut(BaseModel):
    matches: list[RunMatchOut]
    posted: int
    dry_run: bool


class ManualMatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_transaction_ids: list[str] = Field(min_length=1, max_length=1)
    expectation_ids: list[str] = Field(min_length=1, max_length=1_000)
    reason: str = Field(min_length=1, max_length=500)


class UnmatchParams(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class MatchOut(BaseModel):
    id: str
    link_id: str
    strategy: str
    rule: str
    status: str
    external_transaction_ids: list[str]
    expectation_ids: list[str]
    entry_iks: list[str]
    created_by: str
    reason: str | None
    failure: str | None
    posted_at: datetime | None
    reverses_match_id: str | None = Field(default=None, description="A reversal: the settled match it reverses.")
    created_at: datetime
    audit: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_domain(cls, match: Match, audit: list[dict[str, Any]] | None = None) -> MatchOut:
        return cls(
            id=match.id,
            link_id=match.link_id,
            strategy=match.strategy.value,
            rule=match.rule.value,
            status=match.status.value,
            external_transaction_ids=list(match.external_transaction_ids),
            expectation_ids=list(match.expectation_ids),
            entry_iks=list(match.entry_iks),
            created_by=match.created_by,
            reason=match.reason,
            failure=match.failure,
            posted_at=match.posted_at,
            reverses_match_id=match.reverses_match_id,
            created_at=match.created_at,
            audit=audit or [],
        )


class MatchListParams(PageParams):
    link_id: str | None = Field(default=None, max_length=100)
