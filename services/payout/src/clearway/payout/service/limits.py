"""Platform settings for withdrawals: limits per currency, read on every request, changed by an
admin with an audit entry (effective at once)."""

from __future__ import annotations

from collections.abc import Mapping

from clearway.payout.domain.approvals import Actor
from clearway.payout.domain.limits import CurrencyLimits
from clearway.payout.service.approvals import audit_entry
from clearway.payout.service.context import PayoutContext
from clearway.platform.logging import get_logger

logger = get_logger("clearway.payout.limits")


async def current_limits(context: PayoutContext) -> Mapping[str, CurrencyLimits]:
    async with context.unit_of_work() as uow:
        return await uow.settings.limits()


async def replace_limits(
    context: PayoutContext, actor: Actor, changes: Mapping[str, CurrencyLimits]
) -> Mapping[str, CurrencyLimits]:
    """PUT semantics per currency: the currencies named are replaced, the others stay."""
    async with context.unit_of_work() as uow:
        now = context.clock()
        before = await uow.settings.limits()
        await uow.settings.replace_limits(changes, actor=actor.name, now=now)
        detail = {
            currency: {"before": _plain(before.get(currency)), "after": _plain(limits)}
            for currency, limits in changes.items()
        }
        await uow.audit.add(audit_entry(actor, "limits_replaced", "settings", "limits", now, changes=detail))
        after = await uow.settings.limits()
        await uow.commit()
    logger.info("withdrawal limits changed", by=actor.name, currencies=sorted(changes))
    return after


def _plain(limits: CurrencyLimits | None) -> dict[str, int] | None:
    if limits is None:
        return None
    return {
        "min_minor": limits.min_minor,
        "max_minor": limits.max_minor,
        "daily_max_minor": limits.daily_max_minor,
        "auto_approve_max_minor": limits.auto_approve_max_minor,
    }
