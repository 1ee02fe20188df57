"""Link use cases: create a link (installing the shipped `reconciliation` schema on its ledger, so
seed 003's accounts and entry types exist from then on), read and list them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from clearway.platform.ids import new_id
from clearway.platform.logging import get_logger
from clearway.reconciliation.domain.errors import ConflictError, InvalidRequestError, NotFoundError
from clearway.reconciliation.domain.expectations import user_of
from clearway.reconciliation.domain.links import (
    DEFAULT_CLEARING_MAX_AGE_S,
    DEFAULT_DATE_WINDOW_DAYS,
    LINK_ID_PREFIX,
    RECONCILIATION_SCHEMA_KEY,
    Link,
    LinkKind,
)
from clearway.reconciliation.service import audit
from clearway.reconciliation.service.context import ReconciliationContext

logger = get_logger("clearway.reconciliation.links")


@dataclass(frozen=True, slots=True)
class CreateLink:
    name: str
    kind: LinkKind
    ledger_id: str
    cash_account_path: str
    currency: str
    external_account_id: str | None = None
    auto_match: bool = True
    clearing_max_age_s: int = DEFAULT_CLEARING_MAX_AGE_S
    date_window_days: int = DEFAULT_DATE_WINDOW_DAYS
    route_account_path: str | None = None


async def create_link(context: ReconciliationContext, command: CreateLink, *, actor: str) -> Link:
    if command.route_account_path is not None:
        user_of(command.route_account_path)  # the account a routed payment credits, as seed 003 names it
    if await context.ledger.get_ledger(command.ledger_id) is None:
        raise InvalidRequestError(f"The ledger has no ledger {command.ledger_id}.", code="LEDGER_NOT_FOUND")
    # Before the link exists: a link whose entry types are missing could match but never post.
    await context.ledger.install_shipped_schema(command.ledger_id, RECONCILIATION_SCHEMA_KEY)
    now = context.clock()
    link = Link(
        id=new_id(LINK_ID_PREFIX),
        name=command.name,
        kind=command.kind,
        ledger_id=command.ledger_id,
        cash_account_path=command.cash_account_path,
        currency=command.currency,
        external_account_id=command.external_account_id,
        auto_match=command.auto_match,
        clearing_max_age_s=command.clearing_max_age_s,
        date_window_days=command.date_window_days,
        route_account_path=command.route_account_path,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    async with context.unit_of_work() as uow:
        if command.external_account_id and await uow.links.by_external_account(command.external_account_id):
            raise ConflictError(
                f"Another link already syncs {command.external_account_id}.", code="EXTERNAL_ACCOUNT_LINKED"
            )
        await uow.links.add(link)
        adopted = 0
        if command.external_account_id:
            adopted = await uow.external_transactions.link_unlinked(link.id, command.external_account_id, now)
        await audit.record(uow, entity_type="link", entity_id=link.id, action="created", actor=actor, at=now)
        await uow.commit()
    logger.info("link created", link_id=link.id, ledger_id=link.ledger_id, adopted=adopted)
    return link


async def get_link(context: ReconciliationContext, link_id: str) -> Link:
    async with context.unit_of_work() as uow:
        link = await uow.links.get(link_id)
    if link is None:
        raise NotFoundError(f"No link {link_id}.", code="LINK_NOT_FOUND")
    return link


async def list_links(context: ReconciliationContext, *, starting_after: str | None, limit: int) -> Sequence[Link]:
    async with context.unit_of_work() as uow:
        return await uow.links.list(starting_after=starting_after, limit=limit)
