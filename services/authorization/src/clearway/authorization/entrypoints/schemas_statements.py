"""HTTP shapes of statements: the JSON representation (the PDF is `adapters.statement_pdf`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from clearway.authorization.domain.statements import Statement


class StatementOut(BaseModel):
    card_account_id: str
    number: int
    currency: str
    period_start: date
    period_end: date
    due_date: date
    status: str
    principal_minor: int
    billed_minor: int
    fees_minor: int
    interest_minor: int
    total_due_minor: int
    minimum_due_minor: int = Field(
        description="Carried principal, fees and interest, plus 1% of the principal billed (rounded up), "
        "never more than the total due."
    )
    transactions: list[dict[str, Any]]
    closed_at: datetime

    @classmethod
    def from_domain(cls, statement: Statement) -> StatementOut:
        return cls(
            card_account_id=statement.card_account_id,
            number=statement.number,
            currency=statement.currency,
            period_start=statement.period_start,
            period_end=statement.period_end,
            due_date=statement.due_date,
            status=statement.status,
            principal_minor=statement.principal_minor,
            billed_minor=statement.billed_minor,
            fees_minor=statement.fees_minor,
            interest_minor=statement.interest_minor,
            total_due_minor=statement.total_due_minor,
            minimum_due_minor=statement.minimum_due_minor,
            transactions=[
                {
                    "id": line.id,
                    "clearing_id": line.clearing_id,
                    "card_id": line.card_id,
                    "merchant_name": line.merchant_name,
                    "merchant_category_code": line.merchant_category_code,
                    "amount_minor": line.amount_minor,
                    "fee_minor": line.fee_minor,
                    "forced": line.forced,
                    "cleared_at": line.cleared_at.isoformat(),
                }
                for line in statement.lines
            ],
            closed_at=statement.closed_at,
        )


class StatementPage(BaseModel):
    data: list[StatementOut]
    has_more: bool
