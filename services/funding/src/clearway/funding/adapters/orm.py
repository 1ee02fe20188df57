"""SQLAlchemy mapping of funding's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class FundingBase(DeclarativeBase):
    pass


class DepositRow(FundingBase):
    __tablename__ = "deposits"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    processor: Mapped[str] = mapped_column(Text)
    transfer_id: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str | None] = mapped_column(Text)
    counterparty_name: Mapped[str | None] = mapped_column(Text)
    counterparty_account: Mapped[str | None] = mapped_column(Text)
    settled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    linked_funding_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    proposed_funding_id: Mapped[str | None] = mapped_column(Text)


class PendingDepositLinkRow(FundingBase):
    __tablename__ = "pending_deposit_links"

    transfer_id: Mapped[str] = mapped_column(Text, primary_key=True)
    funding_id: Mapped[str] = mapped_column(Text, primary_key=True)
    match_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkspaceRow(FundingBase):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    ledger_identity_id: Mapped[str | None] = mapped_column(Text)
    auto_link_deposits: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkspaceReceivingAccountRow(FundingBase):
    __tablename__ = "workspace_receiving_accounts"

    account_id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayableRow(FundingBase):
    __tablename__ = "payables"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(Text)
    payee_id: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)
    status: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unapproved_by: Mapped[str | None] = mapped_column(Text)
    unapproved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    funding_id: Mapped[str | None] = mapped_column(Text)
    pay_attempts: Mapped[int] = mapped_column(Integer)
    hold_transaction_id: Mapped[str | None] = mapped_column(Text)
    ledger_reference: Mapped[str | None] = mapped_column(Text)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payout_status: Mapped[str | None] = mapped_column(Text)
    payout_withdrawal_id: Mapped[str | None] = mapped_column(Text)
    payout_receipt: Mapped[str | None] = mapped_column(Text)
    payout_failure_code: Mapped[str | None] = mapped_column(Text)
    payout_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FundingRow(FundingBase):
    __tablename__ = "fundings"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    invoice_number: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient_name: Mapped[str] = mapped_column(Text)
    recipient_email: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    deposit_id: Mapped[str | None] = mapped_column(Text)
    processor: Mapped[str | None] = mapped_column(Text)
    transfer_id: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(Text)
    deposit_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    linked_by: Mapped[str | None] = mapped_column(Text)
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    funded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invoice_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invoice_send_attempts: Mapped[int] = mapped_column(Integer)
    request_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TopupRow(FundingBase):
    __tablename__ = "topups"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(Text)
    identity_id: Mapped[str] = mapped_column(Text)
    wallet_balance_id: Mapped[str] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    phone: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    account_reference: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    checkout_request_id: Mapped[str | None] = mapped_column(Text)
    merchant_request_id: Mapped[str | None] = mapped_column(Text)
    result_code: Mapped[int | None] = mapped_column(Integer)
    result_desc: Mapped[str | None] = mapped_column(Text)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(Text)
    ledger_reference: Mapped[str | None] = mapped_column(Text)
    ledger_transaction_id: Mapped[str | None] = mapped_column(Text)
    callback_fingerprint: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(Text)
    status_checks: Mapped[int] = mapped_column(Integer)
    next_status_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
