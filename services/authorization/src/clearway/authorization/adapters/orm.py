"""SQLAlchemy mapping of authorization's tables (the migrations own the schema; this mirrors it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class AuthorizationBase(DeclarativeBase):
    pass


class CardAccountRow(AuthorizationBase):
    __tablename__ = "card_accounts"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    customer_id: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    credit_limit_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text)
    ledger_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
