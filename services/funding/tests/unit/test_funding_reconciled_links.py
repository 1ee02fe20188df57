"""`transfer.reconciled` links the transfer's deposit to the fundings reconciliation matched it to,
through link-deposit's claim: once, never over another link, and later when the deposit is not
recorded yet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from clearway.contracts.events import TransferReconciled
from clearway.funding.domain.deposits import LinkReconciledTransfer, PendingLink, new_deposit
from clearway.funding.domain.fundings import FundingStatus
from clearway.funding.entrypoints.consumers import (
    RECONCILIATIONS_GROUP_ID,
    TRANSFER_RECONCILED,
    funding_ids,
    reconciled_link_command,
    subscriptions,
)
from clearway.funding.service.reconciled_links import RECONCILIATION_ACTOR, LinkOutcome, link_reconciled
from clearway.platform.consumer import IncomingEvent

from .test_funding_deposit_recording import command
from .test_funding_invoices_and_totals import funding

NOW = datetime(2024, 5, 2, 14, 5, tzinfo=UTC)
INVOICE_TOTAL_MINOR = 220_049


def reconciled_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_transaction_id": "ext_1",
        "link_id": "lnk_1",
        "external_id": "trf_1",
        "match_id": "mch_1",
        "direction": "inbound",
        "amount_minor": INVOICE_TOTAL_MINOR,
        "currency": "USD",
        "reference": "a reference that names no invoice",
        "ledger_id": "ldg_1",
        "entry_iks": ["mch_1:0"],
        "expectation_ids": ["exp_1"],
        "expectation_sources": ["funding:fnd_1"],
        "reconciled_at": "2024-05-02T14:10:00Z",
    }
    body.update(changes)
    return body


def seed(uow: Any, *, amount_minor: int = INVOICE_TOTAL_MINOR, linked_funding_id: str | None = None) -> None:
    uow.fundings.rows["fnd_1"] = funding()
    deposit = new_deposit(
        command("trf_1", amount_minor=amount_minor, payment_reference="no invoice"), deposit_id="dep_1", now=NOW
    )
    uow.deposits.rows["dep_1"] = replace(deposit, linked_funding_id=linked_funding_id)


async def link(uow: Any, event_id: str = "evt_1", *, funding_ids_: tuple[str, ...] = ("fnd_1",)) -> Any:
    return await link_reconciled(
        uow,
        LinkReconciledTransfer(transfer_id="trf_1", match_id="mch_1", funding_ids=funding_ids_),
        consumer=RECONCILIATIONS_GROUP_ID,
        event_id=event_id,
        topic=TRANSFER_RECONCILED,
        clock=lambda: NOW,
    )


def test_the_funding_ids_are_the_funding_sources_each_once_in_order() -> None:
    sources = ["payout:wd_1", "funding:fnd_b", "api:exp_9", "funding:fnd_a", "funding:fnd_b"]
    assert funding_ids(sources) == ("fnd_b", "fnd_a")
    # Another source, no separator, no id, no source, another spelling: no funding.
    assert funding_ids(["payouts:fnd_1", "funding", "funding:", ":fnd_1", "fundingfnd_1", "Funding:fnd_1"]) == ()
    assert funding_ids([]) == ()
    # The id is everything after the first separator.
    assert funding_ids(["funding:fnd:1"]) == ("fnd:1",)


def test_only_an_inbound_reconciled_transfer_names_fundings() -> None:
    inbound = reconciled_link_command(
        TransferReconciled.model_validate(reconciled_body(expectation_sources=["funding:fnd_1", "payout:wd_1"]))
    )
    assert inbound == LinkReconciledTransfer(transfer_id="trf_1", match_id="mch_1", funding_ids=("fnd_1",))
    outbound = reconciled_link_command(TransferReconciled.model_validate(reconciled_body(direction="outbound")))
    assert outbound.funding_ids == ()


async def test_a_deposit_no_reference_matched_is_linked_once(funding_uow: Any) -> None:
    seed(funding_uow)
    result = await link(funding_uow)
    assert result.outcomes == (("fnd_1", LinkOutcome.LINKED),) and result.linked_funding_ids == ("fnd_1",)
    assert funding_uow.deposits.rows["dep_1"].linked_funding_id == "fnd_1"
    linking = funding_uow.fundings.rows["fnd_1"]
    assert linking.status is FundingStatus.LINKING
    assert (linking.deposit.transfer_id, linking.deposit.linked_by) == ("trf_1", RECONCILIATION_ACTOR)

    redelivered = await link(funding_uow)
    assert redelivered.duplicate_event and redelivered.linked_funding_ids == ()
    # The same match published again under a new event id: already this funding's deposit.
    again = await link(funding_uow, "evt_2")
    assert again.outcomes == (("fnd_1", LinkOutcome.ALREADY_LINKED),) and again.linked_funding_ids == ()
    assert funding_uow.fundings.rows["fnd_1"] == linking
    assert funding_uow.commits == 2


async def test_what_cannot_link_is_skipped_without_raising(funding_uow: Any) -> None:
    seed(funding_uow, linked_funding_id="fnd_other")
    assert (await link(funding_uow, "evt_elsewhere")).outcomes == (("fnd_1", LinkOutcome.SKIPPED),)
    assert funding_uow.deposits.rows["dep_1"].linked_funding_id == "fnd_other"

    seed(funding_uow, amount_minor=INVOICE_TOTAL_MINOR - 1)
    assert (await link(funding_uow, "evt_amount")).outcomes == (("fnd_1", LinkOutcome.SKIPPED),)

    seed(funding_uow)
    funding_uow.fundings.rows["fnd_1"] = funding().cancel("olga", NOW)
    assert (await link(funding_uow, "evt_cancelled")).outcomes == (("fnd_1", LinkOutcome.SKIPPED),)
    assert funding_uow.deposits.rows["dep_1"].linked_funding_id is None

    unknown = await link(funding_uow, "evt_unknown", funding_ids_=("fnd_unknown",))
    assert unknown.outcomes == (("fnd_unknown", LinkOutcome.SKIPPED),)
    # Every one of them is handled: a redelivery is a duplicate, not a second try.
    assert {event_id for _, event_id in funding_uow.inbox.seen} >= {"evt_elsewhere", "evt_amount", "evt_cancelled"}
    assert funding_uow.deposits.pending_links == {}


async def test_a_link_before_its_deposit_is_kept_pending_once(funding_uow: Any) -> None:
    funding_uow.fundings.rows["fnd_1"] = funding()
    assert (await link(funding_uow)).outcomes == (("fnd_1", LinkOutcome.PENDING),)
    assert (await link(funding_uow, "evt_2")).outcomes == (("fnd_1", LinkOutcome.PENDING),)
    assert funding_uow.deposits.pending_links == {
        ("trf_1", "fnd_1"): PendingLink(transfer_id="trf_1", funding_id="fnd_1", match_id="mch_1", created_at=NOW)
    }
    assert funding_uow.fundings.rows["fnd_1"].status is FundingStatus.AWAITING_FUNDS


def incoming(payload: dict[str, Any], *, event_id: str) -> IncomingEvent:
    return IncomingEvent(
        id=event_id,
        type=TRANSFER_RECONCILED,
        source="clearway.reconciliation",
        subject=payload["external_transaction_id"],
        time=None,
        correlation_id=event_id,
        causation_id=None,
        key=payload["external_transaction_id"],
        topic=TRANSFER_RECONCILED,
        partition=0,
        offset=0,
        payload=payload,
    )


async def test_the_consumer_drives_on_only_what_it_linked(funding_uow: Any) -> None:
    seed(funding_uow)
    driven: list[str] = []

    async def after_link(funding_id: str) -> None:
        driven.append(funding_id)

    (handler,) = [
        handler
        for topic, group_id, handler in subscriptions(lambda: funding_uow, after_link, clock=lambda: NOW)
        if (topic, group_id) == (TRANSFER_RECONCILED, RECONCILIATIONS_GROUP_ID)
    ]
    await handler(incoming(reconciled_body(), event_id="evt_1"))
    await handler(incoming(reconciled_body(), event_id="evt_1"))
    await handler(incoming(reconciled_body(), event_id="evt_2"))
    assert driven == ["fnd_1"]
    assert (RECONCILIATIONS_GROUP_ID, "clearway.reconciliation#evt_1") in funding_uow.inbox.seen
