"""SQLAlchemy mapping of authorization's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class AuthorizationBase(DeclarativeBase):
    pass


class CardAccountRow(AuthorizationBase):
    __tablename__ = "card_accounts"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    identity_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    credit_limit_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text)
    ledger_id: Mapped[str | None] = mapped_column(Text)
    billing_cycle_day: Mapped[int] = mapped_column(Integer)
    payment_due_days: Mapped[int] = mapped_column(Integer)
    fee_markup_bps: Mapped[int] = mapped_column(Integer)
    pending_interest_rate_bps: Mapped[int] = mapped_column(Integer)
    overdue_interest_rate_bps: Mapped[int] = mapped_column(Integer)
    balance_ids: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CardRow(AuthorizationBase):
    __tablename__ = "cards"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    card_account_id: Mapped[str] = mapped_column(Text, ForeignKey("card_accounts.id"))
    last_four: Mapped[str] = mapped_column(Text)
    expires_month: Mapped[int] = mapped_column(Integer)
    expires_year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text)
    blocked_mccs: Mapped[list[str]] = mapped_column(ARRAY(Text))
    per_transaction_max_minor: Mapped[int | None] = mapped_column(BigInteger)
    daily_max_minor: Mapped[int | None] = mapped_column(BigInteger)
    atm_allowed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuthorizationRow(AuthorizationBase):
    __tablename__ = "authorizations"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    authorization_id: Mapped[str] = mapped_column(Text, unique=True)
    card_id: Mapped[str] = mapped_column(Text)
    card_account_id: Mapped[str | None] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    merchant_name: Mapped[str] = mapped_column(Text)
    merchant_category_code: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    overdraft_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    hold_generation: Mapped[int] = mapped_column(Integer)
    hold_transaction_id: Mapped[str | None] = mapped_column(Text)
    held_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    available_credit_minor: Mapped[int | None] = mapped_column(BigInteger)
    reversing_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expiry_business_date: Mapped[date | None] = mapped_column(Date)
    incremental_of: Mapped[str | None] = mapped_column(Text, ForeignKey("authorizations.id"))
    reversed_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class ClearingRow(AuthorizationBase):
    __tablename__ = "clearings"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    clearing_id: Mapped[str] = mapped_column(Text, unique=True)
    authorization_id: Mapped[str | None] = mapped_column(Text)
    authorization_ref: Mapped[str | None] = mapped_column(Text, ForeignKey("authorizations.id"))
    card_id: Mapped[str] = mapped_column(Text)
    card_account_id: Mapped[str] = mapped_column(Text, ForeignKey("card_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    merchant_name: Mapped[str] = mapped_column(Text)
    merchant_category_code: Mapped[str] = mapped_column(Text)
    cleared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    forced: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)
    hold_transaction_id: Mapped[str | None] = mapped_column(Text)
    held_minor: Mapped[int] = mapped_column(BigInteger)
    authorized_fee_minor: Mapped[int | None] = mapped_column(BigInteger)
    overdraft_limit_minor: Mapped[int] = mapped_column(BigInteger)
    committed_minor: Mapped[int] = mapped_column(BigInteger)
    difference_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    statement_number: Mapped[int | None] = mapped_column(Integer)


class CardJobRunRow(AuthorizationBase):
    __tablename__ = "card_job_runs"

    job: Mapped[str] = mapped_column(Text, primary_key=True)
    card_account_id: Mapped[str] = mapped_column(Text, ForeignKey("card_accounts.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StatementRow(AuthorizationBase):
    __tablename__ = "statements"

    card_account_id: Mapped[str] = mapped_column(Text, ForeignKey("card_accounts.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    principal_minor: Mapped[int] = mapped_column(BigInteger)
    billed_minor: Mapped[int] = mapped_column(BigInteger)
    fees_minor: Mapped[int] = mapped_column(BigInteger)
    interest_minor: Mapped[int] = mapped_column(BigInteger)
    total_due_minor: Mapped[int] = mapped_column(BigInteger)
    transactions: Mapped[list[Any]] = mapped_column(JSONB)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RepaymentRow(AuthorizationBase):
    __tablename__ = "repayments"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    card_account_id: Mapped[str] = mapped_column(Text, ForeignKey("card_accounts.id"))
    reference: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    allocation: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)  # why a `refused` repayment was not posted
    ledger_transaction_id: Mapped[str | None] = mapped_column(Text)  # the split, once posted
