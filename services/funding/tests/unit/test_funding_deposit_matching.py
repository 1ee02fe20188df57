"""A deposit quoting an invoice's payment reference is proposed for it, and linked at once when the
workspace asks for that, all in the transaction that records the deposit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clearway.funding.domain.fundings import FundingStatus
from clearway.funding.domain.workspaces import Workspace
from clearway.funding.service.deposits import RecordOutcome, record_and_match

from .test_funding_deposit_recording import command
from .test_funding_invoices_and_totals import funding

NOW = datetime(2024, 5, 2, 14, 5, tzinfo=UTC)


def seed(uow: Any, *, auto_link: bool) -> str:
    invoice = funding()
    uow.fundings.rows[invoice.id] = invoice
    uow.workspaces.rows["default"] = Workspace("default", None, auto_link, NOW, NOW)
    return invoice.payment_reference


async def record(uow: Any, reference: str | None, amount_minor: int, event_id: str = "evt_1") -> Any:
    cmd = command(payment_reference=reference, amount_minor=amount_minor)
    return await record_and_match(
        uow, cmd, consumer="funding.transfers", event_id=event_id, topic="transfer.created", clock=lambda: NOW
    )


async def test_a_matching_reference_is_proposed_not_linked(funding_uow: Any) -> None:
    reference = seed(funding_uow, auto_link=False)
    result = await record(funding_uow, reference.lower(), 220_049)
    assert (result.outcome, result.proposed_funding_id, result.auto_linked_funding_id) == (
        RecordOutcome.RECORDED,
        "fnd_1",
        None,
    )
    (deposit,) = funding_uow.deposits.rows.values()
    assert (deposit.proposed_funding_id, deposit.linked_funding_id) == ("fnd_1", None)
    assert funding_uow.fundings.rows["fnd_1"].status is FundingStatus.AWAITING_FUNDS


async def test_auto_link_claims_the_deposit_with_the_record(funding_uow: Any) -> None:
    reference = seed(funding_uow, auto_link=True)
    result = await record(funding_uow, reference, 220_049)
    assert result.auto_linked_funding_id == "fnd_1"
    (deposit,) = funding_uow.deposits.rows.values()
    assert deposit.linked_funding_id == "fnd_1"
    linking = funding_uow.fundings.rows["fnd_1"]
    assert linking.status is FundingStatus.LINKING and linking.deposit.transfer_id == deposit.transfer_id


async def test_auto_link_never_links_a_wrong_amount(funding_uow: Any) -> None:
    reference = seed(funding_uow, auto_link=True)
    result = await record(funding_uow, reference, 220_048)
    assert (result.proposed_funding_id, result.auto_linked_funding_id) == ("fnd_1", None)
    assert funding_uow.fundings.rows["fnd_1"].status is FundingStatus.AWAITING_FUNDS


async def test_unknown_or_malformed_references_are_only_recorded(funding_uow: Any) -> None:
    seed(funding_uow, auto_link=True)
    result = await record(funding_uow, "INV-2024-0042", 220_049)
    assert (result.outcome, result.proposed_funding_id) == (RecordOutcome.RECORDED, None)
