"""Withdrawal limits' SQL: the rows an admin stored, over the documented defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clearway.payout.adapters.orm import CurrencyLimitsRow
from clearway.payout.domain.limits import DEFAULT_LIMITS, CurrencyLimits


class SqlSettingsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def limits(self) -> Mapping[str, CurrencyLimits]:
        stored = {
            row.currency: CurrencyLimits(
                min_minor=row.min_minor,
                max_minor=row.max_minor,
                daily_max_minor=row.daily_max_minor,
                auto_approve_max_minor=row.auto_approve_max_minor,
            )
            for row in await self._session.scalars(select(CurrencyLimitsRow))
        }
        return {**DEFAULT_LIMITS, **stored}

    async def replace_limits(self, limits: Mapping[str, CurrencyLimits], *, actor: str, now: datetime) -> None:
        for currency, values in limits.items():
            row = {
                "currency": currency,
                "min_minor": values.min_minor,
                "max_minor": values.max_minor,
                "daily_max_minor": values.daily_max_minor,
                "auto_approve_max_minor": values.auto_approve_max_minor,
                "updated_by": actor,
                "updated_at": now,
            }
            statement = insert(CurrencyLimitsRow).values(**row)
            await self._session.execute(
                statement.on_conflict_do_update(
                    index_elements=[CurrencyLimitsRow.currency],
                    set_={key: statement.excluded[key] for key in row if key != "currency"},
                )
            )
