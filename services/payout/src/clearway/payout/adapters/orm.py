"""SQLAlchemy mapping of payout's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class PayoutBase(DeclarativeBase):
    pass


class WithdrawalMethodRow(PayoutBase):
    __tablename__ = "withdrawal_methods"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    method_type: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(Text)
    account_number: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    is_primary: Mapped[bool] = mapped_column(Boolean)
    verified: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
