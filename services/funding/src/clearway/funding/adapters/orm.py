"""SQLAlchemy mapping of funding's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Text
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
