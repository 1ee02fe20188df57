"""HTTP shapes of breaks, check runs, clearing accounts and the daily report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clearway.platform.pagination import PageParams
from clearway.reconciliation.domain.breaks import Break, BreakKind
from clearway.reconciliation.service.reports import DailyReport


class BreakOut(BaseModel):
    id: str
    kind: BreakKind
    subject: str
    link_id: str | None
    detail: dict[str, Any]
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None

    @classmethod
    def from_domain(cls, found: Break) -> BreakOut:
        return cls(
            id=found.id,
            kind=found.kind,
            subject=found.subject,
            link_id=found.link_id,
            detail=found.detail,
            detected_at=found.detected_at,
            resolved_at=found.resolved_at,
            resolved_by=found.resolved_by,
            resolution_note=found.resolution_note,
        )


class BreakListParams(PageParams):
    open: bool = Field(default=True, description="Only unresolved breaks.")
    kind: BreakKind | None = None


class ResolutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2_000)


class CheckRunOut(BaseModel):
    checked: dict[str, int]
    breaks_found: int


class ClearingAccountParams(BaseModel):
    ledger_id: str = Field(min_length=1, max_length=100)
    status: str | None = Field(default="pending", pattern=r"^(pending|cleared)$")
    path: str | None = Field(default=None, max_length=300, description="Exact, or a template with `:*`.")


class ClearingAccountOut(BaseModel):
    ledger_id: str
    path: str
    currency: str | None
    clearing_status: str | None
    own_balance_minor: int
    age_s: int | None = Field(description="Since the payment it holds was initiated, when reconciliation knows it.")


class ReportParams(BaseModel):
    day: date | None = Field(default=None, description="UTC day; today when omitted.")
    format: str = Field(default="json", pattern=r"^(json|csv)$")


class DailyReportOut(BaseModel):
    day: date
    link_id: str
    ledger_id: str
    cash_account_path: str
    currency: str
    opening_minor: int
    in_minor: int
    out_minor: int
    closing_minor: int
    bank_closing_minor: int | None
    ledger_balance_minor: int
    difference_minor: int | None
    unreconciled: int
    breaks: list[BreakOut]

    @classmethod
    def of(cls, report: DailyReport) -> DailyReportOut:
        link = report.link
        return cls(
            day=report.day,
            link_id=link.id,
            ledger_id=link.ledger_id,
            cash_account_path=link.cash_account_path,
            currency=link.currency,
            opening_minor=report.opening_minor,
            in_minor=report.in_minor,
            out_minor=report.out_minor,
            closing_minor=report.closing_minor,
            bank_closing_minor=report.bank_closing_minor,
            ledger_balance_minor=report.ledger_balance_minor,
            difference_minor=report.difference_minor,
            unreconciled=report.unreconciled,
            breaks=[BreakOut.from_domain(found) for found in report.open_breaks],
        )
