"""What routes get from the app: the pool, the pipeline, and who may do what."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from clearway.ledger.domain.errors import LedgerError
from clearway.ledger.domain.tenancy import Tenant
from clearway.ledger.service.posting.pipeline import PostingPipeline
from clearway.platform.auth import SERVICE, Principal, require_roles
from clearway.platform.errors import ProblemError

# Who may move money in the ledger, and who may only look.
# Moving money is for the platform's own workflows and operators; a card processor reads but never
# posts here (its requests go through authorization's controls). What a writer may move is then
# decided per balance (`domain/tenancy.py`): a workspace key only its workspace's ledgers, and money
# out of `@World` (any internal balance) only a service principal or admin.
WRITERS = ("operator", "service")
READERS = (*WRITERS, "processor", "read_only", "approver")


# `async def`, though they only read app.state: FastAPI runs a plain `def` dependency in a worker
# thread, a thread hop per request on the posting path (seen in the profile, issue 13).
async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.ledger_pool
    return pool


async def get_pipeline(request: Request) -> PostingPipeline:
    pipeline: PostingPipeline = request.app.state.pipeline
    return pipeline


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Pipeline = Annotated[PostingPipeline, Depends(get_pipeline)]
Writer = Annotated[Principal, Depends(require_roles(*WRITERS))]
Reader = Annotated[Principal, Depends(require_roles(*READERS))]


def tenant_of(principal: Principal) -> Tenant:
    """The ledger's view of a caller: its workspace (None: the platform) and whether it may move
    internal money (role `service`; admin holds every role)."""
    return Tenant(workspace_id=principal.workspace_id, may_move_internal=principal.has_role(SERVICE))


async def _writer_tenant(principal: Writer) -> Tenant:
    return tenant_of(principal)


async def _reader_tenant(principal: Reader) -> Tenant:
    return tenant_of(principal)


# Routes take these instead of Writer/Reader: the role check first, then who the caller acts for.
WriterTenant = Annotated[Tenant, Depends(_writer_tenant)]
ReaderTenant = Annotated[Tenant, Depends(_reader_tenant)]


def as_problem(error: LedgerError) -> ProblemError:
    extra = {key: value for key, value in error.extra.items() if key not in {"type", "title", "status", "detail"}}
    return ProblemError(error.detail, status=error.http_status, code=error.code, extra=extra)
