"""HTTP shapes of batches (seed 003's batch send) and card-network settlement and clearing files."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from clearway.platform.money import AMOUNT_MINOR_MAX
from clearway.platform.pagination import PageParams
from clearway.reconciliation.domain.card_clearings import TRANSACTIONS_MAX, CardClearing, CardTransaction
from clearway.reconciliation.domain.expectations import CARD_CLEARING_PREFIX
from clearway.reconciliation.entrypoints.schemas_matching import ExpectationOut
from clearway.reconciliation.service.batches import BatchView
from clearway.reconciliation.service.card_settlements import SettlementView

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link_id: str = Field(min_length=1, max_length=100)
    reference: str = Field(
        min_length=1, max_length=200, description="What the bank's settlement of the batch will carry."
    )
    expectation_ids: list[str] = Field(min_length=1, max_length=1_000, description="Open outbound payments.")


class BatchOut(BaseModel):
    id: str
    link_id: str
    reference: str
    currency: str
    status: str
    total_minor: int = Field(description="What the bank should settle: the payments still in the batch.")
    payments: list[ExpectationOut]
    created_by: str
    created_at: datetime

    @classmethod
    def from_view(cls, view: BatchView) -> BatchOut:
        batch = view.batch
        return cls(
            id=batch.id,
            link_id=batch.link_id,
            reference=batch.reference,
            currency=batch.currency,
            status=batch.status.value,
            total_minor=view.total_minor,
            payments=[ExpectationOut.from_domain(member) for member in view.members],
            created_by=batch.created_by,
            created_at=batch.created_at,
        )


class BatchListParams(PageParams):
    link_id: str | None = Field(default=None, max_length=100)


class ClearingTotalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    clearing_id: str = Field(pattern=IDENTIFIER)
    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)


class SettlementFileCreate(BaseModel):
    """The card network's daily settlement file: the total per clearing."""

    model_config = ConfigDict(extra="forbid")

    settlement_id: str = Field(pattern=IDENTIFIER, description="The bank's payment carries it as its reference.")
    settled_on: date | None = None
    clearings: list[ClearingTotalIn] = Field(min_length=1, max_length=1_000)


class CardTransactionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_transaction_id: str = Field(pattern=IDENTIFIER)
    account_path: str = Field(min_length=1, max_length=300, description="liabilities/user_balances:<user>")
    amount_minor: StrictInt = Field(gt=0, le=AMOUNT_MINOR_MAX)

    def to_domain(self) -> CardTransaction:
        return CardTransaction(self.card_transaction_id, self.account_path, self.amount_minor)


class ClearingFileCreate(BaseModel):
    """One clearing file: the clearing's individual card transactions."""

    model_config = ConfigDict(extra="forbid")

    clearing_id: str = Field(pattern=IDENTIFIER)
    transactions: list[CardTransactionIn] = Field(min_length=1, max_length=TRANSACTIONS_MAX)


class ClearingOut(BaseModel):
    clearing_id: str
    settlement_id: str | None
    settlement_file_minor: int | None = Field(description="The clearing's amount in the settlement file.")
    clearing_file_minor: int | None = Field(description="What its clearing file adds up to.")
    transactions: int | None
    settled: bool = Field(description="Its settlement's bank payment is reconciled.")
    status: str = Field(description="waiting | posted | mismatch")
    failure: str | None

    @classmethod
    def from_domain(cls, clearing: CardClearing) -> ClearingOut:
        return cls(
            clearing_id=clearing.clearing_id,
            settlement_id=clearing.settlement_id,
            settlement_file_minor=clearing.expected_minor,
            clearing_file_minor=clearing.file_total_minor,
            transactions=None if clearing.transactions is None else len(clearing.transactions),
            settled=clearing.settled,
            status=clearing.status.value,
            failure=clearing.failure,
        )


class SettlementOut(BaseModel):
    settlement_id: str
    link_id: str
    total_minor: int
    currency: str
    expectation: ExpectationOut
    clearings: list[ClearingOut]

    @classmethod
    def from_view(cls, view: SettlementView) -> SettlementOut:
        expectation = view.expectation
        by_id = {clearing.clearing_id: clearing for clearing in view.clearings}
        clearing_ids = [item.account_path.removeprefix(CARD_CLEARING_PREFIX) for item in expectation.items]
        return cls(
            settlement_id=expectation.reference or expectation.id,
            link_id=expectation.link_id,
            total_minor=expectation.amount_minor,
            currency=expectation.currency,
            expectation=ExpectationOut.from_domain(expectation),
            clearings=[ClearingOut.from_domain(by_id[c]) for c in clearing_ids if c in by_id],
        )
