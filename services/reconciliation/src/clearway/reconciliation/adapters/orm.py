"""SQLAlchemy mapping of reconciliation's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ReconciliationBase(DeclarativeBase):
    pass


class LinkRow(ReconciliationBase):
    __tablename__ = "links"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    ledger_id: Mapped[str] = mapped_column(Text)
    cash_account_path: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    external_account_id: Mapped[str | None] = mapped_column(Text)
    auto_match: Mapped[bool] = mapped_column(Boolean)
    clearing_max_age_s: Mapped[int] = mapped_column(Integer)
    date_window_days: Mapped[int] = mapped_column(Integer)
    route_account_path: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExternalTransactionRow(ReconciliationBase):
    __tablename__ = "external_transactions"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    processor: Mapped[str] = mapped_column(Text)
    transfer_id: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    counterparty_name: Mapped[str | None] = mapped_column(Text)
    counterparty_account: Mapped[str | None] = mapped_column(Text)
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    link_id: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    match_id: Mapped[str | None] = mapped_column(Text)
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_for_review: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExpectationRow(ReconciliationBase):
    __tablename__ = "expectations"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    link_id: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    expected_on: Mapped[date | None] = mapped_column(Date)
    account_path: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    source: Mapped[str] = mapped_column(Text)
    source_id: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    match_id: Mapped[str | None] = mapped_column(Text)
    initiation_ik: Mapped[str | None] = mapped_column(Text)
    initiation_status: Mapped[str] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MatchRow(ReconciliationBase):
    __tablename__ = "matches"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    link_id: Mapped[str] = mapped_column(Text)
    strategy: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    external_transaction_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    expectation_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    entry_iks: Mapped[list[str]] = mapped_column(ARRAY(Text))
    status: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure: Mapped[str | None] = mapped_column(Text)
    reverses_match_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BatchRow(ReconciliationBase):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    link_id: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CardClearingRow(ReconciliationBase):
    __tablename__ = "card_clearings"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    link_id: Mapped[str] = mapped_column(Text)
    clearing_id: Mapped[str] = mapped_column(Text)
    settlement_id: Mapped[str | None] = mapped_column(Text)
    expected_minor: Mapped[int | None] = mapped_column(BigInteger)
    transactions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    settled: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatementRow(ReconciliationBase):
    __tablename__ = "statements"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    link_id: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    statement_id: Mapped[str | None] = mapped_column(Text)
    opening_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    closing_balance_minor: Mapped[int | None] = mapped_column(BigInteger)
    closing_on: Mapped[date | None] = mapped_column(Date)
    imported: Mapped[int] = mapped_column(Integer)
    skipped_duplicates: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BreakRow(ReconciliationBase):
    __tablename__ = "breaks"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    link_id: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)


class AuditEntryRow(ReconciliationBase):
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
