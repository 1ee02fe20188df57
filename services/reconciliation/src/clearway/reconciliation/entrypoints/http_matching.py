"""Expectation and matching routes: what should move, matching runs, manual match and unmatch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from clearway.platform.errors import problem_responses
from clearway.platform.pagination import Page
from clearway.reconciliation.domain.expectations import ExpectationItem, NewExpectation
from clearway.reconciliation.entrypoints.dependencies import ContextDep, Reader, Writer
from clearway.reconciliation.entrypoints.schemas_matching import (
    CancellationCreate,
    ExpectationCreate,
    ExpectationListParams,
    ExpectationOut,
    ManualMatchCreate,
    MatchingRunCreate,
    MatchingRunOut,
    MatchListParams,
    MatchOut,
    RunMatchOut,
    UnmatchParams,
)
from clearway.reconciliation.service import expectations, matching, posting, reconcile_link

router = APIRouter(tags=["matching"])
# The body names a link (or its transactions and expectations): an unknown one is a 404.
NAMES_A_LINK = problem_responses(404)


@router.post("/expectations", status_code=status.HTTP_201_CREATED, responses=NAMES_A_LINK)
async def create_expectation(body: ExpectationCreate, principal: Writer, context: ContextDep) -> ExpectationOut:
    """Outbound: seed 003's initiation entry is posted at once. With `external_id`, creating it again
    returns the same expectation."""
    command = NewExpectation(
        link_id=body.link_id,
        direction=body.direction,
        amount_minor=body.amount_minor,
        currency=body.currency,
        reference=body.reference,
        source="api",
        source_id=body.external_id,
        expected_on=body.expected_on,
        account_path=body.account_path,
        items=tuple(ExpectationItem(item.account_path, item.amount_minor) for item in body.items or ()),
    )
    created = await expectations.add_expectation(context, command, actor=principal.name)
    assert created is not None
    await reconcile_link.after_arrival(context, created.link_id)
    return ExpectationOut.from_domain(await expectations.get_expectation(context, created.id))


@router.get("/expectations")
async def list_expectations(
    _: Reader, context: ContextDep, params: Annotated[ExpectationListParams, Query()]
) -> Page[ExpectationOut]:
    found = await expectations.list_expectations(
        context,
        link_id=params.link_id,
        status=params.status,
        starting_after=params.starting_after,
        limit=params.fetch_limit,
    )
    return Page.from_overfetch([ExpectationOut.from_domain(item) for item in found], params.limit)


@router.get("/expectations/{expectation_id}")
async def get_expectation(expectation_id: str, _: Reader, context: ContextDep) -> ExpectationOut:
    return ExpectationOut.from_domain(await expectations.get_expectation(context, expectation_id))


@router.post("/expectations/{expectation_id}/cancellation")
async def cancel_expectation(
    expectation_id: str, body: CancellationCreate, principal: Writer, context: ContextDep
) -> ExpectationOut:
    """Seed 003: a payment cancelled before settlement; its initiation entry is reversed."""
    return ExpectationOut.from_domain(
        await expectations.cancel_expectation(context, expectation_id, actor=principal.name, reason=body.reason)
    )


@router.post("/matching/runs", responses=NAMES_A_LINK)
async def run_matching(body: MatchingRunCreate, principal: Writer, context: ContextDep) -> MatchingRunOut:
    """Match the link's open items now; a dry run shows what would match and posts nothing."""
    run = await reconcile_link.reconcile_link(
        context, body.link_id, dry_run=body.dry_run, actor=principal.name, explain=True
    )
    shown = [
        RunMatchOut(
            external_transaction_id=match.external_transaction_ids[0],
            expectation_id=match.expectation_ids[0],
            expectation_ids=list(match.expectation_ids),
            match_id=match.id,
            strategy=match.strategy.value,
            rule=match.rule.value,
            entry_types=run.entry_types.get(match.id, []),
        )
        for match in run.matches
    ]
    return MatchingRunOut(matches=shown, posted=run.posted, dry_run=run.dry_run)


@router.post("/matches", status_code=status.HTTP_201_CREATED, responses=NAMES_A_LINK)
async def create_match(body: ManualMatchCreate, principal: Writer, context: ContextDep) -> MatchOut:
    match = await matching.manual_match(
        context,
        transaction_ids=body.external_transaction_ids,
        expectation_ids=body.expectation_ids,
        actor=principal.name,
        reason=body.reason,
    )
    await posting.post_match(context, match)
    posted, audit = await matching.get_match(context, match.id)
    return MatchOut.from_domain(posted, audit)


@router.get("/matches")
async def list_matches(_: Reader, context: ContextDep, params: Annotated[MatchListParams, Query()]) -> Page[MatchOut]:
    found = await matching.list_matches(
        context, link_id=params.link_id, starting_after=params.starting_after, limit=params.fetch_limit
    )
    return Page.from_overfetch([MatchOut.from_domain(match) for match in found], params.limit)


@router.get("/matches/{match_id}")
async def get_match(match_id: str, _: Reader, context: ContextDep) -> MatchOut:
    match, audit = await matching.get_match(context, match_id)
    return MatchOut.from_domain(match, audit)


@router.delete("/matches/{match_id}")
async def unmatch(
    match_id: str, principal: Writer, context: ContextDep, params: Annotated[UnmatchParams, Query()]
) -> MatchOut:
    """Undo a match not yet posted (`?reason=` is required and audited)."""
    undone = await matching.unmatch(context, match_id, actor=principal.name, reason=params.reason)
    _, audit = await matching.get_match(context, match_id)
    return MatchOut.from_domain(undone, audit)
